"""The session summary's shape, for the OpenAPI document (bff_site/gateway/serializers.py
says how the BFF's shapes are used)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers as S

from shared.openapi import closed


@closed
class SessionUserSerializer(S.Serializer[Any]):
    id = S.CharField()
    email = S.CharField()
    name = S.CharField()
    roles = S.ListField(child=S.CharField())


@closed
class SessionSerializer(S.Serializer[Any]):
    authenticated = S.BooleanField()
    user = SessionUserSerializer(allow_null=True)
    csrf_token = S.CharField()
    admin_url = S.CharField(allow_null=True)
