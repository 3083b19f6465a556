"""DRF serializers compiled once into plain functions, for a path that runs on every request.

A DRF serializer copies its whole field tree whenever one is made and walks its fields
generically on every call. On a hot path that costs more than the work itself, so:

- `reader(serializer)` returns a function giving the validated data for input in the
  serializer's canonical form (the exact JSON types, no unknown keys, nothing DRF would
  coerce or trim), else None: the caller then asks DRF, which stays the one judge of
  what is wrong and how it is said.
- `renderer(serializer)` returns a function giving what `serializer.to_representation`
  gives.

Both are built from the serializer's own declaration (its fields, their sources,
`required`/`default`/`allow_null`, each field's validators), so the schema is written
once. A field kind they do not know raises TypeError when compiled, never a silent
difference; a subclass of a field kind may only refuse more than its base (as a
JSON-integers-only `IntegerField`), which the canonical form never reaches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core import validators
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models.manager import BaseManager
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.validators import ProhibitSurrogateCharactersValidator

Check = Callable[[Any], Any]  # a value, or _ASK_DRF
_ASK_DRF = object()


def reader(serializer: serializers.Serializer) -> Callable[[Any], dict[str, Any] | None]:
    """The validated data of canonical input, as `serializer.run_validation` gives it;
    None for anything else (ask the serializer)."""
    check = _read(serializer)

    def read(data: Any) -> dict[str, Any] | None:
        value = check(data)
        return None if value is _ASK_DRF else value

    return read


def renderer(serializer: serializers.BaseSerializer) -> Callable[[Any], Any]:
    """`serializer.to_representation` as a plain function."""
    return _render(serializer)


def _validators(field: serializers.Field) -> Callable[[Any], bool]:
    """Whether a value passes the field's own validators (range, length, pattern …)."""
    tests = [_passes(validator, field) for validator in field.validators]
    return lambda value: all(test(value) for test in tests)


def _passes(validator: Any, field: serializers.Field) -> Callable[[Any], bool]:
    """A validator as a test: the usual ones as the comparison they make (a Django
    validator is a call, a dict of parameters and a comparison), any other called."""
    limit = getattr(validator, "limit_value", None)
    kind = type(validator)
    if kind in _COMPARISONS and not callable(limit):
        compare = _COMPARISONS[kind]
        return lambda value: not compare(value, limit)
    if kind is validators.RegexValidator and not validator.inverse_match:
        search = validator.regex.search
        return lambda value: bool(search(str(value)))
    if kind is validators.ProhibitNullCharactersValidator:
        return lambda value: "\x00" not in str(value)
    if kind is ProhibitSurrogateCharactersValidator:
        call = validator.__call__
        return lambda value: value.isascii() or _called(call, value)
    if getattr(validator, "requires_context", False):
        return lambda value: _called(validator, value, field)
    return lambda value: _called(validator, value)


def _called(validator: Callable[..., Any], *args: Any) -> bool:
    try:
        validator(*args)
    except (serializers.ValidationError, DjangoValidationError):
        return False
    return True


# Django's comparing validators: the comparison that refuses a value.
_COMPARISONS: dict[type, Callable[[Any, Any], bool]] = {
    validators.MinValueValidator: lambda value, limit: value < limit,
    validators.MaxValueValidator: lambda value, limit: value > limit,
    validators.MinLengthValidator: lambda value, limit: len(value) < limit,
    validators.MaxLengthValidator: lambda value, limit: len(value) > limit,
}


def _source(field: serializers.Field) -> str:
    if len(field.source_attrs) != 1:
        raise TypeError(f"{field.field_name}: a dotted or '*' source is not compiled")
    return str(field.source_attrs[0])


def _read(field: serializers.Field) -> Check:
    check = _read_value(field)
    allow_null = field.allow_null

    def read(value: Any) -> Any:
        if value is None:
            return None if allow_null else _ASK_DRF
        return check(value)

    return read


def _read_value(field: serializers.Field) -> Check:
    if isinstance(field, serializers.Serializer):
        return _read_object(field)
    passes = _validators(field)
    if isinstance(field, serializers.IntegerField):

        def integer(value: Any) -> Any:
            return value if type(value) is int and passes(value) else _ASK_DRF

        return integer
    if isinstance(field, serializers.ListField):
        child, allow_empty = _read(field.child), field.allow_empty

        def items(value: Any) -> Any:
            if type(value) is not list or not (value or allow_empty):
                return _ASK_DRF
            checked = [child(item) for item in value]
            if any(item is _ASK_DRF for item in checked) or not passes(checked):
                return _ASK_DRF
            return checked

        return items
    if (
        not isinstance(field, serializers.CharField)
        or type(field).to_internal_value is not serializers.CharField.to_internal_value
    ):
        raise TypeError(f"{field.field_name}: no fast reader for {type(field)}")
    trim, allow_blank = field.trim_whitespace, field.allow_blank

    def text(value: Any) -> Any:
        if type(value) is not str or (trim and value != value.strip()):
            return _ASK_DRF
        if value == "":
            return value if allow_blank else _ASK_DRF
        return value if passes(value) else _ASK_DRF

    return text


def _read_object(serializer: serializers.Serializer) -> Check:
    hooks = [name for name in serializer.fields if hasattr(serializer, f"validate_{name}")]
    if type(serializer).validate is not serializers.Serializer.validate or hooks:
        raise TypeError(f"{type(serializer).__name__}: its validate methods are not compiled")
    fields = [field for field in serializer.fields.values() if not field.read_only]
    names = frozenset(field.field_name for field in fields)
    plan = [
        (field.field_name, _source(field), field, field.required, _read(field)) for field in fields
    ]
    passes = _validators(serializer)

    def read(data: Any) -> Any:
        if type(data) is not dict or not data.keys() <= names:
            return _ASK_DRF
        validated: dict[str, Any] = {}
        for name, source, field, required, check in plan:
            if name in data:
                value = check(data[name])
                if value is _ASK_DRF:
                    return _ASK_DRF
            elif required:
                return _ASK_DRF
            else:
                try:
                    value = field.get_default()
                except SkipField:
                    continue
            validated[source] = value
        return validated if passes(validated) else _ASK_DRF

    return read


def _render(field: serializers.Field) -> Callable[[Any], Any]:
    if isinstance(field, serializers.ListSerializer):
        assert field.child is not None  # DRF requires one
        child = _render(field.child)

        def many(value: Any) -> list[Any]:
            items = value.all() if isinstance(value, BaseManager) else value
            return [child(item) for item in items]

        return many
    if isinstance(field, serializers.Serializer):
        return _render_object(field)
    if isinstance(field, serializers.ChoiceField):
        choices = dict(field.choice_strings_to_values)
        return lambda value: value if value == "" else choices.get(str(value), value)
    if isinstance(field, serializers.IntegerField):
        return int
    if isinstance(field, serializers.CharField):
        return str
    if isinstance(field, serializers.DateTimeField):
        return field.to_representation  # DRF's own: the format and time zone it was given
    if type(field) is serializers.ReadOnlyField:
        return lambda value: value
    raise TypeError(f"{field.field_name}: no fast renderer for {type(field)}")


def _render_object(serializer: serializers.Serializer) -> Callable[[Any], dict[str, Any]]:
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        raise TypeError(f"{type(serializer).__name__}: its to_representation is not compiled")
    # (name, source, convert), or (name, None, method) for a SerializerMethodField.
    plan: list[tuple[str, str | None, Callable[[Any], Any]]] = [
        (str(field.field_name), None, getattr(serializer, field.method_name))
        if isinstance(field, serializers.SerializerMethodField)
        else (str(field.field_name), _source(field), _render(field))
        for field in serializer._readable_fields
    ]

    def render(instance: Any) -> dict[str, Any]:
        mapping = isinstance(instance, Mapping)
        shown: dict[str, Any] = {}
        for name, source, convert in plan:
            if source is None:
                shown[name] = convert(instance)
                continue
            value = instance[source] if mapping else getattr(instance, source)
            shown[name] = None if value is None else convert(value)
        return shown

    return render
