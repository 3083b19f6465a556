"""Stripe's error answer, `{"error": {"type", "code", "message", ...}}`, and its usual kinds."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An answer in Stripe's error shape: `{"error": {"type", "code", "message", ...}}`."""

    def __init__(self, status: int, type_: str, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "error": {"type": type_, "code": code, "message": message, **extra}
        }


def invalid(code: str, message: str, param: str | None = None) -> ApiError:
    """A 400 `invalid_request_error`, naming the bad parameter when there is one."""
    extra = {"param": param} if param else {}
    return ApiError(400, "invalid_request_error", code, message, **extra)


def card_error(code: str, message: str, param: str) -> ApiError:
    """Stripe's answer to a card it can't take: 402 `card_error` naming the field."""
    return ApiError(402, "card_error", code, message, param=param)


def not_found(message: str, **extra: Any) -> ApiError:
    """A 404 `resource_missing`: an unknown URL or object."""
    return ApiError(404, "invalid_request_error", "resource_missing", message, **extra)
