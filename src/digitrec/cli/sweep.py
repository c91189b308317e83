"""``digitrec sweep``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from digitrec.cli.output import console, emit_json, err_console


def sweep(
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Zoo model to tune (default: mlp)."),
    param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="What to tune, repeatable: "
                                              "NAME=LOW..HIGH, NAME=LOW..HIGH:log, NAME=A,B,C or NAME=VALUE "
                                              "(default: lr=1e-4..1e-2:log, batch_size=32,64,128,256)."),
    trials: int = typer.Option(20, "--trials", "-n", help="Finished trials the sweep should have (a resumed "
                               "sweep runs only the missing ones)."),
    dataset: Optional[str] = typer.Option(None, "--dataset", "-d", help="Dataset (default: mnist)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", help="Epochs per trial (default: the "
                                         "model's recipe)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Train each trial on a random subset of N "
                                        "examples (quick sweeps)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the sampler and of every trial (default 0)."),
    prune: bool = typer.Option(True, "--prune/--no-prune", help="Stop trials whose validation accuracy "
                               "falls below the median of earlier trials at the same epoch."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder of the sweep: study.db, best/, "
                                       "best.json, trials.csv and plots (default: runs/sweep-MODEL-DATASET)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder holding DATASET/ sub-folders of IDX files."),
    json: bool = typer.Option(False, "--json", help="End with one JSON object: the best trial and its settings."),
):
    """Search hyperparameters with Optuna, judged on validation accuracy, pruning weak trials early.

    The study is kept in SQLite (OUT/study.db): after Ctrl-C, run the same command again to resume it.
    The best trial's model is kept in OUT/best; importance.png shows which parameters mattered.

    Examples:

        digitrec sweep --model mlp --trials 30 --param lr=1e-4..1e-2:log --param batch_size=32,64,128
        digitrec sweep --model fast --trials 10 --limit 10000 --param weight_decay=1e-5..1e-2:log
    """
    from digitrec.reports.sweep import format_params
    from digitrec.reports.sweep import sweep as run_sweep

    try:
        result = run_sweep(model, param, trials, out, dataset, epochs, limit, seed, prune, data_dir,
                           console=err_console)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]: finished trials are saved; run the same command again to "
                          "resume the sweep")
        raise typer.Exit(130) from None
    with err_console.status("drawing the plots…"):
        written = result.save()
    summary = result.best_json()
    if json:
        emit_json(summary)
        return
    best = result.best
    if best is None:
        console.print(f"no trial has completed yet ({len(result.trials)} pruned or failed)")
    else:
        console.print(f"[bold green]best[/] of {len(result.trials)} trials: trial {best.number}, validation "
                      f"accuracy {best.value * 100:.2f} % with {format_params(best.params)}")
        console.print(f"its model: {summary['model_dir']} (try `digitrec report {summary['model_dir']}`)")
    console.print("wrote " + ", ".join(str(p) for p in written))
