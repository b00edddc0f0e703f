"""Prompt templates: jinja2 files in prompts/, rendered with StrictUndefined.

A template is the user turn as a whole, or defines `{% block user %}` and optionally
`{% block system %}` for a benchmark whose prompt has a system message (LiveCodeBench's): one file
then holds the whole prompt, so its hash in the manifest covers both turns.
"""

from __future__ import annotations

import functools
import hashlib

import jinja2

from evalkit.errors import EvalkitError
from evalkit.resources import resource_dir
from evalkit.types import Message


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("prompts"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )


def render(template: str, **variables: object) -> str:
    """Render prompts/<template> with `variables`; a missing variable is an error, never empty text."""
    try:
        return _environment().get_template(template).render(**variables)
    except jinja2.TemplateNotFound as e:
        raise EvalkitError(f"Prompt template '{template}' not found in {resource_dir('prompts')}.") from e
    except jinja2.UndefinedError as e:
        raise EvalkitError(f"Prompt template '{template}' needs a variable that was not given: {e}") from e


def render_messages(template: str, **variables: object) -> tuple[Message, ...]:
    """The chat turns prompts/<template> renders: its system block if any, then the user turn."""
    try:
        compiled = _environment().get_template(template)
        if "user" not in compiled.blocks:
            return (Message("user", compiled.render(**variables)),)
        context = compiled.new_context(dict(variables))
        user = Message("user", "".join(compiled.blocks["user"](context)))
        if "system" not in compiled.blocks:
            return (user,)
        return (Message("system", "".join(compiled.blocks["system"](context))), user)
    except jinja2.TemplateNotFound as e:
        raise EvalkitError(f"Prompt template '{template}' not found in {resource_dir('prompts')}.") from e
    except jinja2.UndefinedError as e:
        raise EvalkitError(f"Prompt template '{template}' needs a variable that was not given: {e}") from e


def template_hash(template: str) -> str:
    """sha256 of the template file's bytes (recorded in the manifest)."""
    path = resource_dir("prompts") / template
    return hashlib.sha256(path.read_bytes()).hexdigest()
