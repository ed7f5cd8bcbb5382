"""Deleting identity resources with everything that hangs off them
(assignments, memberships, application credentials). Callers run these in
a `Identity.write()` session, which drops the token caches afterwards."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pocketstack.identity import models as m


async def delete_project(s: AsyncSession, project_id: str) -> None:
    await s.execute(delete(m.Assignment).where(m.Assignment.target_type == "project",
                                               m.Assignment.target_id == project_id))
    await s.execute(delete(m.AppCredential).where(m.AppCredential.project_id == project_id))
    await s.execute(delete(m.Project).where(m.Project.id == project_id))


async def delete_user(s: AsyncSession, user_id: str) -> None:
    await s.execute(delete(m.Assignment).where(m.Assignment.actor_type == "user",
                                               m.Assignment.actor_id == user_id))
    await s.execute(delete(m.GroupMember).where(m.GroupMember.user_id == user_id))
    await s.execute(delete(m.AppCredential).where(m.AppCredential.user_id == user_id))
    await s.execute(delete(m.User).where(m.User.id == user_id))


async def delete_group(s: AsyncSession, group_id: str) -> None:
    await s.execute(delete(m.Assignment).where(m.Assignment.actor_type == "group",
                                               m.Assignment.actor_id == group_id))
    await s.execute(delete(m.GroupMember).where(m.GroupMember.group_id == group_id))
    await s.execute(delete(m.Group).where(m.Group.id == group_id))


async def delete_role(s: AsyncSession, role_id: str) -> None:
    await s.execute(delete(m.Assignment).where(m.Assignment.role_id == role_id))
    await s.execute(delete(m.ImpliedRole).where((m.ImpliedRole.prior_role_id == role_id)
                                                | (m.ImpliedRole.implied_role_id == role_id)))
    await s.execute(delete(m.Role).where(m.Role.id == role_id))


async def delete_domain(s: AsyncSession, domain_id: str) -> None:
    """The domain and its projects, users and groups."""
    await s.execute(update(m.Project).where(m.Project.domain_id == domain_id)
                    .values(parent_id=None))
    for project_id in (await s.execute(select(m.Project.id).where(
            m.Project.domain_id == domain_id))).scalars().all():
        await delete_project(s, project_id)
    for user_id in (await s.execute(select(m.User.id).where(
            m.User.domain_id == domain_id))).scalars().all():
        await delete_user(s, user_id)
    for group_id in (await s.execute(select(m.Group.id).where(
            m.Group.domain_id == domain_id))).scalars().all():
        await delete_group(s, group_id)
    await s.execute(delete(m.Assignment).where(m.Assignment.target_type == "domain",
                                               m.Assignment.target_id == domain_id))
    await s.execute(delete(m.Domain).where(m.Domain.id == domain_id))
