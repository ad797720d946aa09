"""Administration of staff users and groups (queues)."""

from __future__ import annotations

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.accounts.models import Group, GroupMember, User
from helpdesk.accounts.schemas import GroupCreate, GroupRead, GroupUpdate, UserRead, UserUpdate
from helpdesk.accounts.security import hash_password
from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, InvalidInput, NotFound
from helpdesk.core.zones import check_time_zone
from helpdesk.runtime import Runtime


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        is_active=user.is_active,
        created_at=user.created_at,
        language=user.language,
        time_zone=user.time_zone,
    )


class StaffService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def list_users(self) -> list[UserRead]:
        async with self.runtime.sessions() as session:
            return [user_read(u) for u in await session.scalars(select(User).order_by(User.name, User.id))]

    async def get_user(self, user_id: int) -> UserRead:
        async with self.runtime.sessions() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(f"user {user_id} not found")
            return user_read(user)

    async def update_user(self, user_id: int, data: UserUpdate) -> UserRead:
        """Change the fields ``data`` sets. Raises ``NotFound``, ``InvalidInput`` (an unknown time zone)."""
        if isinstance(data.time_zone, str):
            check_time_zone(data.time_zone)
        async with transaction(self.runtime.sessions) as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(f"user {user_id} not found")
            if data.name is not msgspec.UNSET:
                user.name = data.name.strip()
            if data.role is not msgspec.UNSET:
                user.role = data.role
            if data.is_active is not msgspec.UNSET:
                user.is_active = data.is_active
            if data.password is not msgspec.UNSET:
                user.password_hash = hash_password(data.password)
            if data.language is not msgspec.UNSET:
                user.language = data.language
            if data.time_zone is not msgspec.UNSET:
                user.time_zone = data.time_zone
            return user_read(user)

    async def list_groups(self) -> list[GroupRead]:
        async with self.runtime.sessions() as session:
            groups = (await session.scalars(select(Group).order_by(Group.name))).all()
            members = await _members(session, [g.id for g in groups])
            return [_group_read(g, members.get(g.id, [])) for g in groups]

    async def create_group(self, data: GroupCreate) -> GroupRead:
        async with transaction(self.runtime.sessions) as session:
            group = Group(name=data.name.strip(), email=data.email, created_at=self.runtime.clock.now())
            session.add(group)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise Conflict(f"a group named {data.name!r} exists already", field="name") from exc
            await _set_members(session, group.id, data.member_ids)
            return _group_read(group, sorted(set(data.member_ids)))

    async def update_group(self, group_id: int, data: GroupUpdate) -> GroupRead:
        async with transaction(self.runtime.sessions) as session:
            group = await session.get(Group, group_id)
            if group is None:
                raise NotFound(f"group {group_id} not found")
            if data.name is not msgspec.UNSET:
                group.name = data.name.strip()
            if data.email is not msgspec.UNSET:
                group.email = data.email
            try:
                await session.flush()
            except IntegrityError as exc:
                raise Conflict("a group with that name exists already", field="name") from exc
            if data.member_ids is not msgspec.UNSET:
                await _set_members(session, group.id, data.member_ids)
            members = await _members(session, [group.id])
            return _group_read(group, members.get(group.id, []))


async def _set_members(session: AsyncSession, group_id: int, member_ids: list[int]) -> None:
    wanted = sorted(set(member_ids))
    if wanted:
        found = set((await session.scalars(select(User.id).where(User.id.in_(wanted)))).all())
        missing = [i for i in wanted if i not in found]
        if missing:
            raise InvalidInput(f"unknown user ids: {missing}", field="member_ids")
    await session.execute(delete(GroupMember).where(GroupMember.group_id == group_id))
    for user_id in wanted:
        session.add(GroupMember(group_id=group_id, user_id=user_id))


async def _members(session: AsyncSession, group_ids: list[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {}
    if group_ids:
        rows = await session.execute(
            select(GroupMember.group_id, GroupMember.user_id)
            .where(GroupMember.group_id.in_(group_ids))
            .order_by(GroupMember.user_id)
        )
        for group_id, user_id in rows:
            result.setdefault(group_id, []).append(user_id)
    return result


def _group_read(group: Group, member_ids: list[int]) -> GroupRead:
    return GroupRead(
        id=group.id, name=group.name, email=group.email, member_ids=member_ids, created_at=group.created_at
    )
