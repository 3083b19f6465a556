from django.urls import path

from identity_site.accounts.apis import UserDetailApi

urlpatterns = [
    path("users/<int:user_id>", UserDetailApi.as_view(), name="api-user-detail"),
]
