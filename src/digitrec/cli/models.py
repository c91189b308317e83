"""``digitrec models``: the model registry — versions, aliases, promotion, rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from digitrec.cli.output import console, emit_json

app = typer.Typer(
    help="The model registry: register trained models as versions, point aliases (production, staging, any "
         "name) at them, roll back. `digitrec serve --model production` follows the alias.\n\n"
         "Examples:\n\n    digitrec models register runs/fast-mnist --alias staging\n\n"
         "    digitrec models promote 20260101.120000-1a2b3c4d            # → production\n\n"
         "    digitrec models rollback production",
    no_args_is_help=True, rich_markup_mode="markdown")

RegistryOption = typer.Option(None, "--registry", envvar="DIGITREC_REGISTRY", show_envvar=True,
                              help="Registry folder (default: registry/ in the user data folder). May be on "
                              "a shared filesystem.")
JsonOption = typer.Option(False, "--json", help="One JSON object.")


def open_registry(path: Optional[Path]):
    from digitrec.registry import Registry

    return Registry(path)


def percent(value) -> str:
    return f"{value * 100:.2f} %" if isinstance(value, (int, float)) else "–"


@app.command("list")
def list_(registry: Optional[Path] = RegistryOption, json: bool = JsonOption):
    """Every registered version (oldest first) and every alias."""
    reg = open_registry(registry)
    versions, aliases = reg.versions(), reg.aliases()
    if json:
        emit_json({"registry": str(reg.root), "versions": [v.to_json() for v in versions],
                   "aliases": [a.to_json() for a in aliases]})
        return
    pointed: dict[str, list[str]] = {}
    for alias in aliases:
        pointed.setdefault(alias.version, []).append(alias.name)
    table = Table(title=f"models in {reg.root}")
    table.add_column("version", no_wrap=True)  # the name to copy into promote/serve: never cut
    for column in ("model", "dataset", "test accuracy", "registered (UTC)", "aliases"):
        table.add_column(column)
    for v in versions:
        m = v.metadata
        table.add_row(v.name, m.name, m.dataset, percent(m.metrics.get("test_accuracy")),
                      v.registered[:19].replace("T", " "), ", ".join(pointed.get(v.name, [])))
    console.print(table if versions else f"no versions in {reg.root} yet: `digitrec models register DIR`")


@app.command()
def show(
    ref: str = typer.Argument(..., help="A version or an alias (production, staging, …)."),
    registry: Optional[Path] = RegistryOption, json: bool = JsonOption,
):
    """One version, its files verified: metrics, training config, where it came from, which aliases use it."""
    reg = open_registry(registry)
    version = reg.resolve(ref)
    aliases = [a.name for a in reg.aliases() if a.version == version.name]
    if json:
        emit_json({**version.to_json(), "aliases": aliases, "verified": True})
        return
    m = version.metadata
    console.print(f"[bold]{version.name}[/] — {m.name} on {m.dataset}, checksums [green]verified[/]",
                  highlight=False)
    rows = [("aliases", ", ".join(aliases) or "–"), ("path", str(version.path)), ("created", m.created),
            ("registered", version.registered), ("epochs", str(len(m.history))),
            ("source", ", ".join(f"{k} {v}" for k, v in version.source.items()))]
    rows += [(k, percent(v) if "accuracy" in k else str(v)) for k, v in m.metrics.items()
             if isinstance(v, (int, float, str))]
    table = Table(show_header=False, box=None)
    for key, value in rows:
        table.add_row(f"[dim]{key}[/]", value)
    console.print(table)


@app.command()
def register(
    model_dir: Path = typer.Argument(..., help="A model directory (what `digitrec train` writes)."),
    alias: Optional[str] = typer.Option(None, "--alias", "-a", help="Then point this alias at it."),
    registry: Optional[Path] = RegistryOption, json: bool = JsonOption,
):
    """Copy a trained model into the registry (checksums verified before and after the copy); its version is
    the one in its metadata.json. Registering the same model again changes nothing."""
    reg = open_registry(registry)
    version, added = reg.register(model_dir)
    promoted = reg.promote(version.name, alias) if alias else None
    if json:
        emit_json({**version.to_json(), "added": added, "alias": promoted.to_json() if promoted else None})
        return
    console.print(f"{'registered' if added else 'already registered:'} [bold]{version.name}[/]"
                  + (f"; {alias} → {version.name}" if promoted else ""), highlight=False)


@app.command()
def promote(
    version: str = typer.Argument(..., help="The version to promote (see `digitrec models list`)."),
    alias: str = typer.Option("production", "--alias", "-a", help="The alias to point at it."),
    registry: Optional[Path] = RegistryOption, json: bool = JsonOption,
):
    """Point an alias at a version, atomically. A service started with `--model ALIAS` switches to it within
    a second, without failing a request; the previous version is kept for `rollback`."""
    reg = open_registry(registry)
    before = reg.find_alias(alias)
    after = reg.promote(version, alias)
    if json:
        emit_json(after.to_json())
        return
    was = before.version if before else "nothing"
    console.print(f"{alias}: {was} → [bold]{after.version}[/]", highlight=False)


@app.command()
def rollback(
    alias: str = typer.Argument("production", help="The alias to move back."),
    registry: Optional[Path] = RegistryOption, json: bool = JsonOption,
):
    """Point an alias back at the version it pointed to before (repeat to go further back)."""
    reg = open_registry(registry)
    before = reg.alias(alias)
    after = reg.rollback(alias)
    if json:
        emit_json(after.to_json())
        return
    console.print(f"{alias}: {before.version} → [bold]{after.version}[/] (rolled back)", highlight=False)


@app.command()
def remove(
    version: str = typer.Argument(..., help="The version to delete."),
    registry: Optional[Path] = RegistryOption, json: bool = JsonOption,
):
    """Delete a version that no alias points to."""
    open_registry(registry).remove(version)
    if json:
        emit_json({"removed": version})
        return
    console.print(f"removed {version}", highlight=False)
