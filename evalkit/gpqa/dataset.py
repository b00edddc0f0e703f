"""GPQA data: the gated Hub dataset, or the authors' password-protected zip read in memory.

The GPQA authors ask that the questions never appear in plain text on the web (they carry a canary
string so leaks can be found in training data). So the offline copy stays in the encrypted zip the
authors distribute, it is decrypted in memory only, and nothing here writes the CSV anywhere.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from evalkit.data import load_hub
from evalkit.errors import EvalkitError, MissingExtraError
from evalkit.tasks import DatasetSpec, Record

HUB_ID = "Idavidrein/gpqa"
HUB_PAGE = "https://huggingface.co/datasets/Idavidrein/gpqa"
# Public: printed in the README of the GPQA authors' repository (idavidrein/gpqa, "Dataset Download")
# so that anyone can open the zip; it only keeps the questions away from web crawlers.
PUBLIC_PASSWORD = b"deserted-untie-orchid"


def read_gpqa_zip(path: Path, csv_name: str, password: bytes = PUBLIC_PASSWORD) -> Iterator[tuple[str, Record]]:
    """Yield (`zip:member:row N`, record) for each row of the CSV `csv_name` inside the zip at `path`.

    The member may sit in any folder of the zip (the authors' `dataset.zip` and re-packed copies differ).
    """
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError as e:
        raise EvalkitError(
            f"GPQA file '{path}' not found. Put the GPQA authors' password-protected zip there "
            "(the data directory must hold gpqa/gpqa_diamond.zip), or leave --data-dir unset to load "
            f"{HUB_ID} from the Hugging Face Hub."
        ) from e
    except (OSError, zipfile.BadZipFile) as e:
        raise EvalkitError(f"Cannot read GPQA zip '{path}': {e}. Re-copy the file from the GPQA authors.") from e
    with archive:
        members = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == csv_name]
        if not members:
            raise EvalkitError(
                f"GPQA zip '{path}' holds no '{csv_name}' (it has: {', '.join(archive.namelist()) or 'nothing'})."
            )
        member = members[0]
        try:
            data = archive.read(member, pwd=password)
        except RuntimeError as e:  # zipfile's "Bad password for file"
            raise EvalkitError(
                f"Cannot decrypt '{member}' in GPQA zip '{path}': {e}. The password evalkit uses is the public "
                "one from the GPQA authors' README (idavidrein/gpqa); this zip was encrypted with another "
                "one. Use the zip the authors distribute, re-packed with that password if needed."
            ) from e
        except (zipfile.BadZipFile, OSError) as e:
            raise EvalkitError(f"GPQA zip '{path}' is damaged ({e}). Re-copy it from the GPQA authors.") from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise EvalkitError(f"'{member}' in '{path}' is not UTF-8 text: {e}.") from e
    where = f"{path}:{member}"
    for row_number, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), 2):
        yield f"{where}:row {row_number}", dict(row)


def load_gpqa_hub(spec: DatasetSpec) -> Iterator[Record]:
    """Rows of the gated Hub dataset `spec.hub_id` (config `spec.config`), with the token from the environment."""
    what = f"Loading {spec.hub_id} from the Hugging Face Hub"
    try:
        import huggingface_hub
    except ImportError as e:
        raise MissingExtraError(what, "hf", "huggingface_hub") from e
    offline = (
        "or pass --data-dir with a folder holding gpqa/gpqa_diamond.zip, the GPQA authors' password-protected zip."
    )
    if huggingface_hub.get_token() is None:
        raise EvalkitError(
            f"{spec.hub_id} is a gated dataset and no Hugging Face token was found. Accept its terms at "
            f"{HUB_PAGE} with your account, then set HF_TOKEN (or run `hf auth login`); {offline}"
        )
    rows = load_hub(
        spec.hub_id,
        config=spec.config,
        split=spec.split,
        revision=spec.revision,
        hint=f"Make sure the account of your HF_TOKEN has accepted the terms at {HUB_PAGE}; {offline}",
    )
    for row in rows:
        yield dict(row)
