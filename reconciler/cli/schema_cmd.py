"""`reconciler schema`: write the JSON Schema files, or check they are up to date."""

from pathlib import Path

import click

from reconciler.cli import cli
from reconciler.schemas import SCHEMAS, render


@cli.command("schema")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Directory of the schema files.",
)
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 listing the files that differ from the models.")
@click.pass_context
def schema_command(ctx: click.Context, out_dir: Path, check: bool) -> None:
    """Generate the JSON Schemas of the pipeline and project files from the models."""
    rendered = {out_dir / name: render(generate()) for name, generate in SCHEMAS.items()}
    if check:
        stale = [path for path, text in rendered.items()
                 if not path.is_file() or path.read_text(encoding="utf-8") != text]
        for path in stale:
            click.echo(f"{path}: differs from the models (run: reconciler schema --out "
                       f"{out_dir})", err=True)
        if stale:
            ctx.exit(1)
        click.echo(f"ok: {len(rendered)} schema files up to date")
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, text in rendered.items():
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")
