"""Sign-in, API tokens and staff administration under /api/v1."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from helpdesk.accounts.dependencies import (
    SESSION_COOKIE,
    PrincipalDep,
    client_key,
    require_authenticated,
    require_role,
)
from helpdesk.accounts.models import Role
from helpdesk.accounts.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    GroupCreate,
    GroupRead,
    GroupUpdate,
    LoginRequest,
    MagicLinkRequest,
    Me,
    UserCreate,
    UserRead,
    UserUpdate,
)
from helpdesk.accounts.service import AccountService, IssuedSession
from helpdesk.accounts.staff import StaffService, user_read
from helpdesk.core.params import PathId
from helpdesk.runtime import RuntimeDep


def me(principal: PrincipalDep) -> Me:
    if principal.is_staff:
        return Me(
            kind="staff",
            name=principal.name,
            user_id=principal.user_id,
            role=principal.role,
            csrf_token=principal.csrf_token,
        )
    return Me(
        kind="customer",
        name=principal.name,
        customer_id=principal.customer_id,
        csrf_token=principal.csrf_token,
    )


def session_cookie(issued: IssuedSession, runtime: RuntimeDep) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=issued.token,
        httponly=True,
        samesite="lax",
        secure=runtime.settings.secure_cookies,
        max_age=runtime.settings.session_days * 86400,
        path="/",
    )


class AuthController(Controller):
    path = "/auth"
    tags = ["accounts"]

    @post("/login", summary="Staff sign-in with a password; sets the session cookie")
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginRequest], runtime: RuntimeDep
    ) -> Response[Me]:
        issued = await AccountService(runtime).login(data.email, data.password, client=client_key(request))
        return Response(me(issued.principal), cookies=[session_cookie(issued, runtime)], status_code=200)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="End the session")
    async def logout(self, request: Request[Any, Any, Any], runtime: RuntimeDep) -> Response[None]:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await AccountService(runtime).logout(token)
        return Response(
            None,
            status_code=HTTP_204_NO_CONTENT,
            cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")],
        )

    @post("/magic-link", status_code=HTTP_202_ACCEPTED, summary="Mail a customer a sign-in link")
    async def magic_link(
        self, request: Request[Any, Any, Any], data: JSONBody[MagicLinkRequest], runtime: RuntimeDep
    ) -> dict[str, str]:
        """Always 202, whether or not the address is known, so it cannot be used to find customers."""
        await AccountService(runtime).request_magic_link(data.email, client=client_key(request))
        return {"detail": "if this address has requests with us, a sign-in link is on its way"}

    @get("/me", summary="Who am I")
    async def whoami(self, principal: PrincipalDep) -> Me:
        require_authenticated(principal)
        return me(principal)


class ApiTokenController(Controller):
    path = "/tokens"
    tags = ["accounts"]

    @post("/", summary="Create an API token for yourself (shown once)")
    async def create_token(
        self, data: JSONBody[ApiTokenCreate], principal: PrincipalDep, runtime: RuntimeDep
    ) -> ApiTokenCreated:
        require_role(principal, *Role)
        assert principal.user_id is not None
        token_id, token = await AccountService(runtime).create_api_token(principal.user_id, data.name)
        return ApiTokenCreated(id=token_id, name=data.name, token=token)

    @delete("/{token_id:int}", summary="Revoke an API token")
    async def revoke_token(self, token_id: PathId, principal: PrincipalDep, runtime: RuntimeDep) -> None:
        require_role(principal, *Role)
        await AccountService(runtime).revoke_api_token(principal, token_id)


class UserController(Controller):
    path = "/users"
    tags = ["administration"]

    @get("/", summary="Staff users")
    async def list_users(self, principal: PrincipalDep, runtime: RuntimeDep) -> list[UserRead]:
        require_role(principal, Role.ADMIN, Role.MANAGER, Role.AGENT)
        return await StaffService(runtime).list_users()

    @post("/", summary="Create a staff user (admin)")
    async def create_user(
        self, data: JSONBody[UserCreate], principal: PrincipalDep, runtime: RuntimeDep
    ) -> UserRead:
        require_role(principal, Role.ADMIN)
        user = await AccountService(runtime).create_user(
            email=data.email, name=data.name, role=data.role, password=data.password
        )
        return user_read(user)

    @get("/{user_id:int}", summary="One staff user")
    async def get_user(self, user_id: PathId, principal: PrincipalDep, runtime: RuntimeDep) -> UserRead:
        require_role(principal, Role.ADMIN, Role.MANAGER, Role.AGENT)
        return await StaffService(runtime).get_user(user_id)

    @patch("/{user_id:int}", summary="Change a staff user (admin)")
    async def update_user(
        self, user_id: PathId, data: JSONBody[UserUpdate], principal: PrincipalDep, runtime: RuntimeDep
    ) -> UserRead:
        require_role(principal, Role.ADMIN)
        return await StaffService(runtime).update_user(user_id, data)


class GroupController(Controller):
    path = "/groups"
    tags = ["administration"]

    @get("/", summary="Groups (queues) and their members")
    async def list_groups(self, principal: PrincipalDep, runtime: RuntimeDep) -> list[GroupRead]:
        require_role(principal, Role.ADMIN, Role.MANAGER, Role.AGENT)
        return await StaffService(runtime).list_groups()

    @post("/", summary="Create a group (admin)")
    async def create_group(
        self, data: JSONBody[GroupCreate], principal: PrincipalDep, runtime: RuntimeDep
    ) -> GroupRead:
        require_role(principal, Role.ADMIN)
        return await StaffService(runtime).create_group(data)

    @patch("/{group_id:int}", summary="Change a group (admin)")
    async def update_group(
        self,
        group_id: PathId,
        data: JSONBody[GroupUpdate],
        principal: PrincipalDep,
        runtime: RuntimeDep,
    ) -> GroupRead:
        require_role(principal, Role.ADMIN)
        return await StaffService(runtime).update_group(group_id, data)
