"""Sign-in, sessions, API tokens, magic links and staff accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.accounts.models import ApiToken, LoginSession, MagicLink, Role, User
from helpdesk.accounts.principal import Principal
from helpdesk.accounts.security import hash_password, new_token, token_hash, verify_password
from helpdesk.accounts.token_cache import principal_cache
from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from helpdesk.core.settings import Settings
from helpdesk.customers.models import Customer, Organisation
from helpdesk.notifications.rendering import reader_of, render_mail_for
from helpdesk.notifications.service import flush_mail_jobs, queue_mail
from helpdesk.runtime import Runtime


@dataclass(frozen=True)
class IssuedSession:
    token: str
    csrf_token: str
    principal: Principal


class AccountService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # -- sessions ---------------------------------------------------------------------------------
    async def login(self, email: str, password: str, *, client: str) -> IssuedSession:
        """Check a staff password and open a session. Raises ``NotAuthenticated`` (same message for an unknown
        e-mail and a wrong password) and ``RateLimited``."""
        await self.runtime.rate_limiter.hit(f"login:{client}", self.runtime.settings.login_rate_per_minute)
        async with transaction(self.runtime.sessions) as session:
            user = await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
            if user is None or not user.is_active or not verify_password(password, user.password_hash):
                raise NotAuthenticated("wrong e-mail or password")
            return await self._open_session(session, user_id=user.id, customer_id=None)

    async def _open_session(
        self, session: AsyncSession, *, user_id: int | None, customer_id: int | None
    ) -> IssuedSession:
        now = self.runtime.clock.now()
        token, csrf = new_token(), new_token()
        session.add(
            LoginSession(
                token_hash=token_hash(token),
                csrf_token=csrf,
                user_id=user_id,
                customer_id=customer_id,
                created_at=now,
                expires_at=now + timedelta(days=self.runtime.settings.session_days),
            )
        )
        await session.flush()
        principal = await self._principal_for(session, user_id=user_id, customer_id=customer_id, csrf=csrf)
        assert principal is not None
        return IssuedSession(token=token, csrf_token=csrf, principal=principal)

    async def logout(self, token: str) -> None:
        async with transaction(self.runtime.sessions) as session:
            await session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))

    async def principal_from_session(self, token: str) -> Principal | None:
        async with self.runtime.sessions() as session:
            row = await session.scalar(
                select(LoginSession).where(LoginSession.token_hash == token_hash(token))
            )
            if row is None or row.expires_at <= self.runtime.clock.now():
                return None
            return await self._principal_for(
                session, user_id=row.user_id, customer_id=row.customer_id, csrf=row.csrf_token
            )

    async def principal_from_api_token(self, token: str) -> Principal | None:
        """The active staff user behind an unrevoked token. This runs on every API call: one query, and none
        for a token answered in the last few seconds (``token_cache``: a revocation elsewhere takes effect
        within ``CACHE_SECONDS``)."""
        hashed = token_hash(token)
        cache = principal_cache(self.runtime)
        principal = cache.get(hashed)
        if principal is not None:
            return principal
        mark = cache.mark()
        async with self.runtime.sessions() as session:
            user = await session.scalar(
                select(User)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(
                    ApiToken.token_hash == hashed,
                    ApiToken.revoked_at.is_(None),
                    User.is_active.is_(True),
                )
            )
            if user is None:
                return None
            principal = Principal(
                user_id=user.id,
                role=Role(user.role),
                name=user.name,
                csrf_token=None,
                language=user.language,
                time_zone=user.time_zone,
            )
        cache.put(hashed, principal, mark)
        return principal

    async def _principal_for(
        self, session: AsyncSession, *, user_id: int | None, customer_id: int | None, csrf: str | None
    ) -> Principal | None:
        if user_id is not None:
            user = await session.get(User, user_id)
            if user is None or not user.is_active:
                return None
            return Principal(
                user_id=user.id,
                role=Role(user.role),
                name=user.name,
                csrf_token=csrf,
                language=user.language,
                time_zone=user.time_zone,
            )
        if customer_id is not None:
            row = (
                await session.execute(
                    select(Customer, Organisation.shares_tickets)
                    .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
                    .where(Customer.id == customer_id)
                )
            ).first()
            if row is None:
                return None
            customer, shares = row
            return Principal(
                customer_id=customer.id,
                organisation_id=customer.organisation_id,
                organisation_shares=bool(shares),
                name=customer.name or customer.email,
                csrf_token=csrf,
                language=customer.language,
                time_zone=customer.time_zone,
            )
        return None

    # -- API tokens -------------------------------------------------------------------------------
    async def create_api_token(self, user_id: int, name: str) -> tuple[int, str]:
        """A new token for ``user_id``; the secret is returned once and only its hash is stored."""
        token = new_token()
        async with transaction(self.runtime.sessions) as session:
            row = ApiToken(
                user_id=user_id, name=name, token_hash=token_hash(token), created_at=self.runtime.clock.now()
            )
            session.add(row)
            await session.flush()
            return row.id, token

    async def revoke_api_token(self, actor: Principal, token_id: int) -> None:
        """Revoke one of the actor's tokens (any token for an admin). Raises ``NotFound``."""
        async with transaction(self.runtime.sessions) as session:
            row = await session.get(ApiToken, token_id)
            if row is None or (row.user_id != actor.user_id and actor.role != Role.ADMIN):
                raise NotFound(f"API token {token_id} not found")
            if row.revoked_at is None:
                row.revoked_at = self.runtime.clock.now()

    # -- customers' magic links -------------------------------------------------------------------
    async def request_magic_link(self, email: str, *, client: str) -> None:
        """Mail a one-time sign-in link if ``email`` belongs to a customer; silent otherwise, so the endpoint
        does not tell who is a customer. Raises ``RateLimited``."""
        settings = self.runtime.settings
        await self.runtime.rate_limiter.hit(f"magic:{client}", settings.magic_link_rate_per_minute)
        await self.runtime.rate_limiter.hit(f"magic-to:{email.lower()}", settings.magic_link_rate_per_minute)
        now = self.runtime.clock.now()
        async with transaction(self.runtime.sessions) as session:
            customer = await session.scalar(select(Customer).where(Customer.email == email.strip().lower()))
            if customer is None:
                return
            token = new_token()
            expires_at = now + timedelta(minutes=settings.magic_link_minutes)
            session.add(
                MagicLink(
                    customer_id=customer.id,
                    token_hash=token_hash(token),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            rendered = render_mail_for(
                reader_of(customer.language, customer.time_zone, settings),
                "magic_link",
                link=f"{settings.base_url}/portal/magic/{token}",
                minutes=settings.magic_link_minutes,
                sent_at=now,
                expires_at=expires_at,
            )
            mail = queue_mail(
                session,
                now,
                kind="magic_link",
                to_address=customer.email,
                subject=rendered.subject,
                body_text=rendered.body_text,
                body_html=rendered.body_html,
            )
            await flush_mail_jobs(session, now, [mail])
        await self.runtime.after_commit()

    async def redeem_magic_link(self, token: str) -> IssuedSession:
        """Exchange an unused, unexpired link for a customer session. Raises ``NotAuthenticated``."""
        now = self.runtime.clock.now()
        async with transaction(self.runtime.sessions) as session:
            link = await session.scalar(
                select(MagicLink).where(MagicLink.token_hash == token_hash(token)).with_for_update()
            )
            if link is None or link.used_at is not None or link.expires_at <= now:
                raise NotAuthenticated("this sign-in link is invalid or has expired; ask for a new one")
            link.used_at = now
            return await self._open_session(session, user_id=None, customer_id=link.customer_id)

    # -- staff accounts ---------------------------------------------------------------------------
    async def create_user(self, *, email: str, name: str, role: str, password: str | None) -> User:
        """Raises ``Conflict`` when the e-mail is taken and ``InvalidInput`` for an unknown role."""
        if role not in set(Role):
            raise InvalidInput(f"unknown role {role!r}", field="role")
        async with transaction(self.runtime.sessions) as session:
            user = User(
                email=email.strip().lower(),
                name=name.strip(),
                role=role,
                password_hash=hash_password(password) if password else None,
                created_at=self.runtime.clock.now(),
            )
            session.add(user)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise Conflict(f"a user with e-mail {email} exists already", field="email") from exc
            return user


async def create_user_cli(settings: Settings, *, email: str, name: str, role: str, password: str) -> int:
    from helpdesk.runtime import start_runtime, stop_runtime

    runtime = await start_runtime(settings, in_process_jobs=True)
    try:
        user = await AccountService(runtime).create_user(email=email, name=name, role=role, password=password)
        return user.id
    finally:
        await stop_runtime(runtime)
