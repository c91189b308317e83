"""The ``digitrec`` command line: thin commands that parse options and call the layers below."""

from __future__ import annotations

import os
import sys

import typer

from digitrec import __version__
from digitrec.cli import data, evaluate, export, feedback, predict, serve, train, train_reader
from digitrec.cli import compare, report, sweep
from digitrec.cli import jobs, models
from digitrec.cli.output import err_console, fail
from digitrec.errors import DigitrecError

app = typer.Typer(
    name="digitrec",
    help="Handwritten-digit recognition: data → train → evaluate → export → predict.\n\n"
         "Start with `digitrec predict my_digit.png` (uses the bundled MNIST model), or "
         "`digitrec train --preset fast` to train your own in seconds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(data.app, name="data")
app.command("train")(train.train)
app.command("train-reader")(train_reader.train_reader)
app.command("evaluate")(evaluate.evaluate)
app.command("export")(export.export)
app.command("predict")(predict.predict)
app.command("serve")(serve.serve)
app.add_typer(feedback.app, name="feedback")
app.command("report")(report.report)
app.command("compare")(compare.compare)
app.command("sweep")(sweep.sweep)
app.add_typer(models.app, name="models")
app.add_typer(jobs.app, name="jobs")


def version_callback(value: bool) -> None:
    if value:
        print(f"digitrec {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    pass


# Modules of the optional extras: a serving install has none of them.
OPTIONAL_MODULES = {"torch", "sklearn", "skl2onnx", "onnx", "onnxscript", "safetensors", "matplotlib", "optuna",
                    "submitit"}


def os_error_message(exc: OSError) -> str:
    """``path: reason``, as the shell says it (``afile: File exists``)."""
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return reason
    return f"{exc.filename}{f' → {exc.filename2}' if exc.filename2 else ''}: {reason}"


def main() -> None:
    """Entry point: user errors are one red line and a non-zero exit code, never a traceback."""
    try:
        code = app(standalone_mode=False)  # click returns, rather than raises, a typer.Exit's code here
        sys.exit(code if isinstance(code, int) else 0)
    except DigitrecError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in OPTIONAL_MODULES:
            fail(f"this command needs {exc.name}, from the training extras: pip install 'digitrec[train]'", 3)
        raise
    except typer.Abort:
        err_console.print("[yellow]aborted[/]")
        sys.exit(1)
    except OSError as exc:  # the system refused: a path that is a file, a permission, a full disk
        if os.environ.get("DIGITREC_DEBUG"):
            raise
        fail(os_error_message(exc))
    except Exception as exc:  # click usage errors and anything unexpected
        # Recognized by shape: typer ≥ 0.2x raises the click it vendors (typer._click), not the click package.
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        if os.environ.get("DIGITREC_DEBUG"):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (set DIGITREC_DEBUG=1 for a traceback)", 70)
