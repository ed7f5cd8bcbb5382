"""Identity's policy defaults, after Keystone's: admin manages everything; a
system reader reads everything; any user reads itself, its own projects and
groups, and manages its own application credentials and password."""

from __future__ import annotations

ADMIN = "rule:admin_required"
READER = "rule:admin_required or (role:reader and system_scope:all)"
OWNER = "user_id:%(user_id)s"
READER_OR_OWNER = f"{READER} or {OWNER}"
ANY = ""

_CRUD = ("get", "list", "create", "update", "delete")


def _crud(resource: str, plural: str, read: str = READER) -> dict[str, str]:
    rules = {f"identity:get_{resource}": read, f"identity:list_{plural}": read}
    for verb in ("create", "update", "delete"):
        rules[f"identity:{verb}_{resource}"] = ADMIN
    return rules


RULES: dict[str, str] = {
    "service_or_admin": "rule:admin_required or role:service",
    "token_subject": "user_id:%(token_user_id)s",
    "identity:validate_token": "rule:service_or_admin or rule:token_subject",
    "identity:check_token": "rule:service_or_admin or rule:token_subject",
    "identity:revoke_token": "rule:admin_required or rule:token_subject",
    "identity:get_auth_catalog": ANY,
    "identity:get_auth_projects": ANY,
    "identity:get_auth_domains": ANY,
    "identity:get_auth_system": ANY,
    **_crud("region", "regions", read=ANY),
    **_crud("service", "services"),
    **_crud("endpoint", "endpoints"),
    **_crud("domain", "domains"),
    "identity:get_domain": f"{READER} or domain_id:%(domain_id)s"
                           " or project_domain_id:%(domain_id)s",
    **_crud("project", "projects"),
    "identity:get_project": f"{READER} or project_id:%(project_id)s",
    "identity:list_user_projects": READER_OR_OWNER,
    **_crud("user", "users"),
    "identity:get_user": READER_OR_OWNER,
    **_crud("group", "groups"),
    "identity:list_groups_for_user": READER_OR_OWNER,
    "identity:list_users_in_group": READER,
    "identity:check_user_in_group": READER,
    "identity:add_user_to_group": ADMIN,
    "identity:remove_user_from_group": ADMIN,
    **_crud("role", "roles"),
    "identity:list_implied_roles": READER,
    "identity:get_implied_role": READER,
    "identity:list_role_inference_rules": READER,
    "identity:create_implied_role": ADMIN,
    "identity:delete_implied_role": ADMIN,
    "identity:check_grant": READER,
    "identity:list_grants": READER,
    "identity:create_grant": ADMIN,
    "identity:revoke_grant": ADMIN,
    "identity:list_role_assignments": READER,
    "identity:get_application_credential": READER_OR_OWNER,
    "identity:list_application_credentials": READER_OR_OWNER,
    "identity:create_application_credential": OWNER,
    "identity:delete_application_credential": f"{ADMIN} or {OWNER}",
}
