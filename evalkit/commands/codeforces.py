"""`evalkit codeforces ...`: the network step that Codeforces ratings need, done once, ahead of evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from evalkit.errors import EvalkitError

codeforces_app = typer.Typer(
    name="codeforces",
    help="Codeforces data for the `codeforces` task (standings, rating changes, rated users).\n\n"
    "Example: `evalkit codeforces fetch --data-dir data`",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)

FETCH_HELP = """Download contest standings, rating changes and the rated-users list from the Codeforces API.

Files go to `DATA_DIR/codeforces/` (`--data-dir`, else $EVALKIT_DATA_DIR, else `~/.cache/evalkit/codeforces`),
where `evalkit run --tasks codeforces` reads them; evaluation itself never uses the network.
Calls are spaced 2 s apart as the API asks; files already there are skipped unless `--overwrite`.

Examples:

* `evalkit codeforces fetch --data-dir data` (the task's default contests)

* `evalkit codeforces fetch --contests 2030,2032 --data-dir data --no-rated-users`
"""


@codeforces_app.command("fetch", help=FETCH_HELP)
def fetch_command(
    contests: Annotated[
        str | None, typer.Option("--contests", help="Comma-separated contest ids (default: the task's contest set).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory; files go to DATA_DIR/codeforces/.")
    ] = None,
    rated_users: Annotated[
        bool, typer.Option("--rated-users/--no-rated-users", help="Also fetch user.ratedList (for percentiles).")
    ] = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Fetch again files that already exist.")] = False,
    api_url: Annotated[str, typer.Option("--api-url", help="Codeforces API base URL.")] = "https://codeforces.com/api",
    min_interval: Annotated[float, typer.Option("--min-interval", help="Seconds between API calls.", min=0.0)] = 2.0,
) -> None:
    try:
        _fetch(
            parse_contest_ids(contests) if contests else None, data_dir, rated_users, overwrite, api_url, min_interval
        )
    except EvalkitError as e:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
        raise typer.Exit(e.exit_code) from None


def parse_contest_ids(text: str) -> list[int]:
    """`2030,2032` -> [2030, 2032]; anything but positive whole numbers is an error."""
    ids: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise EvalkitError(f"Bad contest id '{part}' in --contests: give comma-separated numbers, e.g. 2030,2032.")
        ids.append(int(part))
    if not ids:
        raise EvalkitError("--contests is empty: give comma-separated contest ids, e.g. 2030,2032.")
    return ids


def _fetch(
    contest_ids: list[int] | None,
    data_dir: Path | None,
    rated_users: bool,
    overwrite: bool,
    api_url: str,
    min_interval: float,
) -> None:
    from evalkit.codeforces.fetch import CodeforcesClient, fetch
    from evalkit.codeforces.layout import store_dir

    if contest_ids is None:
        from evalkit.tasks import get_task

        contest_ids = list(get_task("codeforces").options["contests"])
    store = store_dir(data_dir)
    console = Console(stderr=True)
    console.print(f"Fetching {len(contest_ids)} contest(s) into {store}", highlight=False)
    client = CodeforcesClient(base_url=api_url, min_interval_s=min_interval)
    fetch(
        client,
        store,
        contest_ids,
        population=rated_users,
        overwrite=overwrite,
        log=lambda m: console.print(m, highlight=False),
    )
