"""The users API other services call with client credentials."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from identity_site.accounts.selectors import user_get, user_roles
from shared.problems import NotFound


class UserContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    role = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()


class UserDetailApi(APIView):
    """A user's contact data, for services holding the `users:read` scope."""

    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["users:read"]

    @extend_schema(
        summary="A user's contact data",
        description="Needs a client_credentials access token with the `users:read` scope.",
        responses={200: UserContactSerializer},
    )
    def get(self, request: Request, user_id: int) -> Response:
        user = user_get(user_id=user_id)
        if user is None:
            raise NotFound(f"No user {user_id}.")
        data: dict[str, Any] = {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "role": user.role,
            "roles": user_roles(user=user),
            "is_active": user.is_active,
        }
        return Response(UserContactSerializer(data).data)
