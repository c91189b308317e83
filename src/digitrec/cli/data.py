"""``digitrec data``: which datasets exist, where their files are, and fetching them."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from digitrec.cli.output import console, emit_json
from digitrec.data.catalog import CATALOG, get_spec
from digitrec.data.sources import complete, file_in, locate, search_places, verify
from digitrec.errors import UsageError

app = typer.Typer(help="List, inspect and download datasets (MNIST, Fashion-MNIST, KMNIST).",
                  no_args_is_help=True)

DataDir = typer.Option(None, "--data-dir", help="Folder holding DATASET/ sub-folders of the IDX files; "
                       "searched first, before $DIGITREC_DATA_DIR, the user cache and system folders.")


def _found(spec, data_dir) -> Path | None:
    if data_dir and complete(Path(data_dir), spec):
        return Path(data_dir)
    return next((p.path for p in search_places(spec, data_dir) if p.path and complete(p.path, spec)), None)


@app.command("list")
def list_(data_dir: Optional[Path] = DataDir, json: bool = typer.Option(False, "--json", help="JSON Lines output.")):
    """List the datasets in the catalog and where each is available locally."""
    rows = []
    for spec in CATALOG.values():
        where = _found(spec, data_dir)
        rows.append({"name": spec.name, "title": spec.title, "classes": list(spec.classes),
                     "train": spec.sizes["train"], "test": spec.sizes["test"],
                     "location": str(where) if where else None})
    if json:
        for row in rows:
            emit_json(row)
        return
    table = Table(title="Datasets")
    for col in ("name", "title", "train/test", "local copy"):
        table.add_column(col)
    for row in rows:
        table.add_row(row["name"], row["title"], f"{row['train']:,}/{row['test']:,}",
                      row["location"] or "[dim]not here (digitrec data download NAME)[/]")
    console.print(table)


@app.command()
def info(name: str = typer.Argument(..., help="Dataset name, e.g. mnist."), data_dir: Optional[Path] = DataDir,
         json: bool = typer.Option(False, "--json", help="JSON output.")):
    """Show a dataset's classes, files, checksums and the places searched for it."""
    spec = get_spec(name)
    where = _found(spec, data_dir)
    files = []
    for f in spec.all_files():
        path = file_in(where, f) if where else None
        files.append({"name": f.name, "md5": f.md5, "path": str(path) if path else None,
                      "verified": verify(path, f) if path else None})
    out = {"name": spec.name, "title": spec.title, "classes": list(spec.classes), "sizes": spec.sizes,
           "homepage": spec.homepage, "license": spec.license, "mirrors": list(spec.mirrors),
           "location": str(where) if where else None, "files": files,
           "searched": [{"place": p.label, "path": str(p.path) if p.path else None}
                        for p in search_places(spec, data_dir)]}
    if json:
        emit_json(out)
        return
    console.print(f"[bold]{spec.title}[/] ({spec.name}) — {spec.homepage}, license {spec.license}")
    console.print(f"classes: {', '.join(spec.classes)}")
    console.print(f"examples: {spec.sizes['train']:,} train, {spec.sizes['test']:,} test")
    table = Table(show_header=True)
    for col in ("file", "location", "checksum"):
        table.add_column(col)
    for f in files:
        status = {True: "[green]ok[/]", False: "[red]mismatch[/]", None: "[dim]-[/]"}[f["verified"]]
        table.add_row(f["name"], f["path"] or "[dim]missing[/]", status)
    console.print(table)
    console.print("searched, in order: " + "; ".join(
        f"{p['place']}: {p['path'] or '(not set)'}" for p in out["searched"]))


@app.command()
def download(name: str = typer.Argument(..., help="Dataset name, e.g. fashion-mnist."),
             data_dir: Optional[Path] = DataDir):
    """Make a dataset available: use a local copy if there is one, else download it (verified) into the cache."""
    spec = get_spec(name)
    where = locate(spec, data_dir, download=True)
    console.print(f"{spec.name}: ready in {where}")


@app.command()
def show(name: str = typer.Argument(..., help="Dataset name (mnist, fashion-mnist, kmnist) or a folder dataset."),
         label: Optional[str] = typer.Option(None, "--label", "-l", help="Only this class: its index (5) or "
                                             "name (Sneaker)."),
         grid: str = typer.Option("16x8", "--grid", help="COLUMNSxROWS of the gallery."),
         random: bool = typer.Option(False, "--random/--first", help="A random choice, or the first images."),
         split: str = typer.Option("train", "--split", help="train or test."),
         seed: int = typer.Option(0, "--seed", help="Seed of the --random choice."),
         out: Optional[Path] = typer.Option(None, "--out", "-o", help="PNG or SVG file to write (by its suffix; "
                                            "default: DATASET-gallery.png)."),
         data_dir: Optional[Path] = DataDir):
    """Draw a gallery of a dataset's images, captioned with their class names.

    Examples:

        digitrec data show mnist --grid 16x8

        digitrec data show fashion-mnist --label Sneaker --random --out sneakers.svg
    """
    from digitrec.data import load_dataset
    from digitrec.reports.gallery import dataset_gallery, parse_grid
    from digitrec.reports.plots import check_format, save_figure

    target = check_format(out or Path(f"{Path(name).name}-gallery.png"))
    columns_rows = parse_grid(grid)
    data = load_dataset(name, split, data_dir=data_dir)
    written = save_figure(dataset_gallery(data, label, columns_rows, random, seed), target)
    console.print(f"wrote {written}")


@app.command()
def embed(name: str = typer.Argument(..., help="Dataset name (mnist, fashion-mnist, kmnist) or a folder dataset."),
          method: str = typer.Option("pca", "--method", help="pca (fast, linear), tsne (slower, shows clusters) "
                                     "or umap (needs `pip install umap-learn`)."),
          n: int = typer.Option(2000, "--n", help="Number of random images to map."),
          split: str = typer.Option("train", "--split", help="train or test."),
          seed: int = typer.Option(0, "--seed", help="Seed of the random choice and of the method."),
          out: Optional[Path] = typer.Option(None, "--out", "-o", help="PNG or SVG file to write (by its suffix; "
                                             "default: DATASET-METHOD.png)."),
          data_dir: Optional[Path] = DataDir):
    """Map images to 2-D (PCA, t-SNE or UMAP of their pixels) and draw them coloured by class.

    Examples:

        digitrec data embed mnist --n 2000

        digitrec data embed fashion-mnist --method tsne --out fashion-tsne.png
    """
    from digitrec.cli.output import err_console
    from digitrec.data import load_dataset
    from digitrec.reports.embed import check_method
    from digitrec.reports.embed import embed as run_embed
    from digitrec.reports.plots import check_format, save_figure

    method = check_method(method)
    target = check_format(out or Path(f"{Path(name).name}-{method}.png"))
    data = load_dataset(name, split, data_dir=data_dir)
    with err_console.status(f"computing the {method} map of {min(n, len(data)):,} images…"):
        embedding = run_embed(data, method, n, seed)
    written = save_figure(embedding.plot(), target)
    console.print(f"wrote {written}" + (f" ({embedding.note})" if embedding.note else ""))


@app.command()
def fonts(out: Path = typer.Argument(..., help="Folder to write: one sub-folder per digit, PNG pictures."),
          font: Optional[list[Path]] = typer.Option(None, "--font", "-f", help="A handwriting font file (TTF, "
                                                    "OTF). Repeatable. Default: the training fonts from "
                                                    "Debian's packages that are installed."),
          per_digit: int = typer.Option(40, "--per-digit", "-n", min=1, max=10_000,
                                        help="Pictures of each digit of each font."),
          seed: int = typer.Option(0, "--seed", help="The same seed and fonts give the same pictures."),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar.")):
    """Draw digits in other people's hands: a folder dataset from handwriting fonts, to train on.

    MNIST's writers are one population; a handwriting font is another person's hand. Each picture is one
    font's digit turned, slanted and drawn with a thinner or bolder pen, 40–120 px high, dark on white, so
    `digitrec train --extra OUT` prepares it exactly as `predict` would prepare a user's picture.

    The default fonts come from Debian (apt-get install fonts-kiloji fonts-tomsontalks
    fonts-tlwg-purisa-otf fonts-dustin fonts-kaushanscript fonts-leckerli-one fonts-aoyagi-kouzan-t
    fonts-aoyagi-soseki fonts-kouzan-mouhitsu fonts-navilu fonts-havana fonts-lobster); none of them is
    among the hands `benchmarks/handwriting_fonts.py` measures.

    Examples:

        digitrec data fonts font-digits/ --per-digit 40

        digitrec data fonts my-hands/ --font MyHand.ttf --font ~/fonts/Other.otf

        digitrec train --model robust --extra font-digits/
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from digitrec.cli.output import err_console
    from digitrec.training.fonts import TRAINING_FONT_PACKAGES, installed_training_fonts, write_font_digits

    if font:
        missing = [str(f) for f in font if not f.is_file()]
        if missing:
            raise UsageError(f"no such font file: {', '.join(missing)}")
        chosen = {f.stem: f for f in font}
    else:
        chosen, absent = installed_training_fonts()
        if not chosen:
            raise UsageError("none of the training fonts is installed: apt-get install "
                             f"{' '.join(TRAINING_FONT_PACKAGES)}, or name fonts with --font")
        if absent and not quiet:
            err_console.print(f"[yellow]not installed, left out[/]: {', '.join(absent)}")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder")
    total = len(chosen) * 10 * per_digit
    with Progress(TextColumn("drawing digits"), BarColumn(bar_width=30), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, disable=quiet, transient=True) as bar:
        task = bar.add_task("", total=total)
        written = write_font_digits(out, chosen, per_digit, seed, lambda n: bar.advance(task, n))
    console.print(f"wrote {written:,} pictures of digits in {len(chosen)} hand{'s' * (len(chosen) > 1)} to {out}")
