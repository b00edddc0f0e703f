"""Prompt templates: jinja2 files in prompts/ (or, for a task of one's own, a file given by its absolute
path), rendered with StrictUndefined.

A template is the user turn as a whole, or defines `{% block user %}` and optionally
`{% block system %}` for a benchmark whose prompt has a system message (LiveCodeBench's): one file
then holds the whole prompt, so its hash in the manifest covers both turns.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import jinja2

from evalkit.errors import EvalkitError
from evalkit.resources import resource_dir
from evalkit.types import Message


@functools.cache
def _environment(folder: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )


def _path(template: str) -> Path:
    """The template's file: an absolute path as given, else a name in prompts/."""
    return Path(template) if Path(template).is_absolute() else resource_dir("prompts") / template


def _template(template: str) -> jinja2.Template:
    path = _path(template)
    try:
        # The template's own folder is the loader's, so an `{% include %}` finds its neighbours.
        return _environment(str(path.parent)).get_template(path.name)
    except jinja2.TemplateNotFound as e:
        raise EvalkitError(f"Prompt template '{template}' not found in {path.parent}.") from e


def render(template: str, **variables: object) -> str:
    """Render prompts/<template> (or the template file at an absolute path) with `variables`; a missing
    variable is an error, never empty text."""
    compiled = _template(template)
    try:
        return compiled.render(**variables)
    except jinja2.UndefinedError as e:
        raise EvalkitError(f"Prompt template '{template}' needs a variable that was not given: {e}") from e


def render_messages(template: str, **variables: object) -> tuple[Message, ...]:
    """The chat turns prompts/<template> renders: its system block if any, then the user turn."""
    compiled = _template(template)
    try:
        if "user" not in compiled.blocks:
            return (Message("user", compiled.render(**variables)),)
        context = compiled.new_context(dict(variables))
        user = Message("user", "".join(compiled.blocks["user"](context)))
        if "system" not in compiled.blocks:
            return (user,)
        return (Message("system", "".join(compiled.blocks["system"](context))), user)
    except jinja2.UndefinedError as e:
        raise EvalkitError(f"Prompt template '{template}' needs a variable that was not given: {e}") from e


def template_hash(template: str) -> str:
    """sha256 of the template file's bytes (recorded in the manifest)."""
    return hashlib.sha256(_path(template).read_bytes()).hexdigest()
