"""``digitrec sweep``: hyperparameter search with Optuna.

Every trial trains the model with sampled settings and is judged on its validation split (never the test
set). Each epoch's validation accuracy is reported to Optuna, whose median pruner stops trials that fall
behind. The study lives in ``<out>/study.db`` (SQLite): running the same command again resumes the sweep
where it stopped. The best trial's model directory is kept in ``<out>/best``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import optuna
from matplotlib.figure import Figure
from optuna.trial import FrozenTrial, TrialState
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError

from digitrec.data import load_dataset
from digitrec.errors import DigitrecError, UsageError
from digitrec.models.catalog import get_model_info
from digitrec.reports import plots
from digitrec.reports.search_space import DEFAULT_SPACE, Param, parse_space
from digitrec.training.config import TrainConfig, make_config
from digitrec.training.progress import EpochProgress

STUDY_NAME = "digitrec-sweep"
DATABASE = "study.db"
ERROR = "error"  # user attribute of a trial that failed on its own settings (diverged, …): it counts as run


@dataclass(frozen=True)
class SweepSettings:
    """What defines a sweep; stored in the study so a resumed sweep is the same sweep."""

    model: str
    dataset: str
    epochs: int | None
    limit: int | None
    seed: int
    val_split: float
    space: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepSettings:
        return cls(**{**data, "space": tuple(data["space"])})


class PruningReporter(EpochProgress):
    """Reports each epoch's validation accuracy to the trial, and stops a trial the pruner gives up on."""

    def __init__(self, trial: optuna.Trial, prune: bool):
        super().__init__(enabled=False)
        self.trial, self.prune = trial, prune

    def end_epoch(self, summary: dict) -> None:
        self.trial.report(summary["val_accuracy"], summary["epoch"])
        if self.prune and self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {summary['epoch']}")


def counted(trial: FrozenTrial) -> bool:
    """Finished trials; an interrupted one (Ctrl-C, a killed process) is run again on resume."""
    return trial.state in (TrialState.COMPLETE, TrialState.PRUNED) or ERROR in trial.user_attrs


@dataclass
class SweepResult:
    out_dir: Path
    settings: SweepSettings
    study: optuna.Study

    @property
    def trials(self) -> list[FrozenTrial]:
        return [t for t in self.study.trials if counted(t)]

    @property
    def best(self) -> FrozenTrial | None:
        """The best complete trial: the one whose model is kept in ``best/``."""
        try:
            return self.study.best_trial
        except ValueError:  # no complete trial yet
            return None

    def importances(self) -> dict[str, float] | None:
        """fANOVA importance of each parameter; None until there are enough complete trials to tell."""
        complete = [t for t in self.trials if t.state == TrialState.COMPLETE]
        if len(complete) < 2:
            return None
        try:
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=self.settings.seed)
            return optuna.importance.get_param_importances(self.study, evaluator=evaluator)
        except (RuntimeError, ValueError):  # e.g. every complete trial drew the same values
            return None

    def plot_importance(self) -> Figure | None:
        found = self.importances()
        if not found:
            return None
        return plots.importance(found, f"what mattered for {self.settings.model} (validation accuracy)")

    def plot_trials(self) -> Figure:
        shown = [t for t in self.trials if t.value is not None or t.intermediate_values]
        values = [t.value if t.value is not None else max(t.intermediate_values.values()) for t in shown]
        pruned = [t.state == TrialState.PRUNED for t in shown]
        return plots.trial_values([t.number for t in shown], values, pruned,
                                  f"sweep of {self.settings.model} on {self.settings.dataset}")

    def best_json(self) -> dict[str, Any]:
        best = self.best
        out: dict[str, Any] = {"settings": asdict(self.settings), "trials": len(self.trials)}
        if best is not None:
            out.update(trial=best.number, val_accuracy=best.value, params=best.params,
                       config=best.user_attrs.get("config"), test_accuracy=best.user_attrs.get("test_accuracy"),
                       model_dir=str(self.out_dir / "best"))
        return out

    def trials_csv(self) -> str:
        names = parse_names(self.settings.space)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["trial", "state", "val_accuracy", *names, "seconds", "error"])
        for t in self.trials:
            writer.writerow([t.number, t.state.name.lower(), t.value, *(t.params.get(n) for n in names),
                             t.user_attrs.get("seconds"), t.user_attrs.get(ERROR, "")])
        return buffer.getvalue()

    def save(self) -> list[Path]:
        """best.json, trials.csv, trials.png and (with enough trials) importance.png in the sweep's folder."""
        written = [self.out_dir / "best.json", self.out_dir / "trials.csv"]
        written[0].write_text(json.dumps(self.best_json(), indent=2) + "\n")
        written[1].write_text(self.trials_csv())
        written.append(plots.save_figure(self.plot_trials(), self.out_dir / "trials.png"))
        importance = self.plot_importance()
        if importance is not None:
            written.append(plots.save_figure(importance, self.out_dir / "importance.png"))
        return written


def format_params(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())


def parse_names(space: tuple[str, ...]) -> list[str]:
    return [text.split("=", 1)[0] for text in space]


def default_out_dir(model: str, dataset: str) -> Path:
    """Deterministic, so that running the same command again resumes the same sweep."""
    return Path("runs") / f"sweep-{model}-{Path(dataset).name}"


def resolve_settings(stored: dict[str, Any] | None, model: str | None, dataset: str | None,
                     epochs: int | None, limit: int | None, seed: int | None, params: list[str] | None,
                     out_dir: Path) -> SweepSettings:
    """A new sweep's settings, or the stored ones of a sweep being resumed (which must not be changed)."""
    if stored is None:
        model = model or "mlp"
        val_split = get_model_info(model).recipe.val_split or 0.1  # a sweep is judged on validation data
        space = tuple(p.text for p in parse_space(params or list(DEFAULT_SPACE), model))
        return SweepSettings(model, dataset or "mnist", epochs, limit, seed or 0, val_split, space)
    settings = SweepSettings.from_json(stored)
    given = {"model": model, "dataset": dataset, "epochs": epochs, "limit": limit, "seed": seed,
             "space": tuple(p.text for p in parse_space(params, settings.model)) if params else None}
    for name, value in given.items():
        if value is not None and value != getattr(settings, name):
            option = "--param" if name == "space" else f"--{name}"
            raise UsageError(f"{out_dir}: this sweep was started with {option} {_show(getattr(settings, name))}; "
                             f"run it without {option} to resume it, or give a new --out for a new sweep")
    return settings


def _show(value: Any) -> str:
    return " ".join(value) if isinstance(value, tuple) else str(value)


def trial_config(settings: SweepSettings, space: list[Param], values: dict[str, Any]) -> TrainConfig:
    options: dict[str, Any] = {"dataset": settings.dataset, "epochs": settings.epochs, "limit": settings.limit,
                               "seed": settings.seed, "val_split": settings.val_split}
    options.update({p.name: values[p.name] for p in space if p.target == "config"})
    builder = {p.name: values[p.name] for p in space if p.target == "model"}
    if builder:
        options["model_options"] = builder
    return make_config(model=settings.model, **options)


def check(settings: SweepSettings, space: list[Param], data_dir) -> None:
    """Fail before the first trial, not in it: every extreme value must make a valid config and model."""
    from digitrec.models.zoo import BUILDERS, build

    for p in space:
        for value in p.extremes():
            trial_config(settings, space, {q.name: value if q is p else q.extremes()[0] for q in space})
            if p.target == "model" and settings.model in BUILDERS:
                try:
                    build(settings.model, **{p.name: value})
                except (ValueError, TypeError, RuntimeError) as exc:
                    message = f"--param {p.text}: {value} is not valid for {settings.model} ({exc})"
                    raise UsageError(message) from None
    if settings.limit is not None and round(settings.limit * settings.val_split) < 1:
        raise UsageError(f"--limit {settings.limit} leaves no validation examples to judge trials on")
    load_dataset(settings.dataset, "train", data_dir=data_dir, progress=False)


def stored_settings(database: Path) -> dict[str, Any]:
    try:
        study = optuna.load_study(study_name=STUDY_NAME, storage=f"sqlite:///{database.resolve()}")
        return study.user_attrs["settings"]
    except (KeyError, SQLAlchemyError):
        raise DigitrecError(f"{database}: not a digitrec sweep; give another --out") from None


def open_study(out_dir: Path, settings: SweepSettings, prune: bool) -> optuna.Study:
    out_dir.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(study_name=STUDY_NAME, storage=f"sqlite:///{(out_dir / DATABASE).resolve()}",
                                direction="maximize", load_if_exists=True)
    if "settings" not in study.user_attrs:
        study.set_user_attr("settings", asdict(settings))
    # a resumed sweep must not replay the first run's random draws: seed by the trials already there
    study.sampler = optuna.samplers.TPESampler(seed=settings.seed + len(study.trials))
    study.pruner = optuna.pruners.MedianPruner(n_startup_trials=3) if prune else optuna.pruners.NopPruner()
    return study


def sweep(model: str | None = None, params: list[str] | None = None, trials: int = 20,
          out_dir: str | os.PathLike | None = None, dataset: str | None = None, epochs: int | None = None,
          limit: int | None = None, seed: int | None = None, prune: bool = True,
          data_dir: str | os.PathLike | None = None, console: Console | None = None) -> SweepResult:
    """Run (or resume) a sweep until it has ``trials`` finished trials; return its results.

    >>> result = sweep("mlp", ["lr=1e-4..1e-2:log", "batch_size=32,64,128"], trials=20)   # doctest: +SKIP
    >>> result.best.params, result.plot_importance()                                       # doctest: +SKIP
    """
    if trials < 1:
        raise UsageError(f"--trials must be at least 1, got {trials}")
    out = Path(out_dir) if out_dir is not None else default_out_dir(model or "mlp", dataset or "mnist")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    database = out / DATABASE
    stored = stored_settings(database) if database.is_file() else None
    settings = resolve_settings(stored, model, dataset, epochs, limit, seed, params, out)
    space = parse_space(list(settings.space), settings.model)
    check(settings, space, data_dir)
    study = open_study(out, settings, prune)
    done = sum(counted(t) for t in study.trials)
    if console is not None and stored is not None:
        console.print(f"resuming {database}: {done} of {trials} trials finished")
    result = SweepResult(out, settings, study)
    with _progress(console) as bar:
        task = bar.add_task(f"sweep {settings.model}", total=trials, completed=done, best="") if bar else None
        for _ in range(max(0, trials - done)):
            line = _run_trial(study, settings, space, out, prune, data_dir)
            if bar is not None:
                best = result.best
                bar.update(task, advance=1, best=f"best {best.value:.4f}" if best else "")
                bar.console.print(line, highlight=False)
    return result


def _progress(console: Console | None) -> AbstractContextManager:
    if console is None:
        return nullcontext(None)
    return Progress(TextColumn("{task.description}"), BarColumn(bar_width=30), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("{task.fields[best]}"), console=console)


def _run_trial(study: optuna.Study, settings: SweepSettings, space: list[Param], out: Path, prune: bool,
               data_dir) -> str:
    """One trial, told to the study whatever happens; returns a line that says how it went."""
    from digitrec.training.trainer import train

    trial = study.ask()
    values = {p.name: p.suggest(trial) for p in space}
    shown = format_params(values)
    trial_dir = out / f"trial-{trial.number:04d}"  # kept as best/, or removed, when the trial ends
    started = time.perf_counter()
    try:
        config = trial_config(settings, space, values)
        trained = train(config, trial_dir, data_dir=data_dir, progress=PruningReporter(trial, prune))
    except optuna.TrialPruned as pruned:
        trial.set_user_attr("seconds", round(time.perf_counter() - started, 2))
        study.tell(trial, state=TrialState.PRUNED)
        shutil.rmtree(trial_dir, ignore_errors=True)
        return f"trial {trial.number:>3}  [dim]{escape(str(pruned))}[/]  {escape(shown)}"
    except DigitrecError as exc:  # these settings do not work (training diverged, …): a result, not a crash
        trial.set_user_attr(ERROR, str(exc))
        study.tell(trial, state=TrialState.FAIL)
        shutil.rmtree(trial_dir, ignore_errors=True)
        return f"trial {trial.number:>3}  [red]failed[/]: {escape(str(exc))}  {escape(shown)}"
    except BaseException:  # Ctrl-C or a bug: not counted, so resuming runs this trial again
        study.tell(trial, state=TrialState.FAIL)
        shutil.rmtree(trial_dir, ignore_errors=True)
        raise
    value = trained.metadata.metrics["val_accuracy"]
    seconds = round(time.perf_counter() - started, 2)
    trial.set_user_attr("seconds", seconds)
    trial.set_user_attr("config", config.to_dict())
    trial.set_user_attr("test_accuracy", trained.test_accuracy)
    study.tell(trial, value)
    best = out / "best"
    if study.best_trial.number == trial.number:  # keep only the best model directory
        shutil.rmtree(best, ignore_errors=True)
        trial_dir.replace(best)
    else:
        shutil.rmtree(trial_dir, ignore_errors=True)
    return f"trial {trial.number:>3}  val_accuracy {value:.4f}  {escape(shown)}  ({seconds:.1f} s)"
