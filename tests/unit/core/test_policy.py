import pytest

from pocketstack.core import exceptions as exc
from pocketstack.core.context import RequestContext
from pocketstack.core.policy import Enforcer

RULES = {
    "thing:get": "rule:admin_or_reader",
    "thing:create": "rule:admin_or_member",
    "thing:system": "role:admin and system_scope:all",
    "thing:nobody": "!",
    "thing:anybody": "",
    "thing:not_reader": "not role:reader",
    "thing:user": "user_id:%(user_id)s or (role:admin and (project_id:%(project_id)s))",
}


def ctx(*roles: str, project: str = "p1", user: str = "u1", system: str | None = None):
    return RequestContext(roles=list(roles), project_id=project, user_id=user,
                          system_scope=system)


@pytest.fixture
def enforcer():
    return Enforcer(RULES)


@pytest.mark.parametrize("roles, project, action, allowed", [
    (("reader",), "p1", "thing:get", True),
    (("reader",), "p2", "thing:get", False),
    (("reader",), "p1", "thing:create", False),
    (("member", "reader"), "p1", "thing:create", True),
    (("member", "reader"), "p2", "thing:create", False),
    (("admin", "member", "reader"), "p2", "thing:create", True),
    (("admin",), "p1", "thing:nobody", False),
    ((), "p1", "thing:anybody", True),
    (("member",), "p1", "thing:not_reader", True),
    (("reader",), "p1", "thing:not_reader", False),
])
def test_rules_against_project_target(enforcer, roles, project, action, allowed):
    assert enforcer.allowed(ctx(*roles), action, {"project_id": project}) is allowed


def test_system_scope_and_parentheses(enforcer):
    assert enforcer.allowed(ctx("admin", system="all"), "thing:system")
    assert not enforcer.allowed(ctx("admin"), "thing:system")
    target = {"user_id": "u9", "project_id": "p1"}
    assert enforcer.allowed(ctx("admin"), "thing:user", target)
    assert not enforcer.allowed(ctx("member"), "thing:user", target)
    assert enforcer.allowed(ctx("member", user="u9"), "thing:user", target)


def test_enforce_raises_forbidden_naming_the_action(enforcer):
    with pytest.raises(exc.Forbidden, match="thing:create"):
        enforcer.enforce(ctx("reader"), "thing:create", {"project_id": "p1"})


def test_policy_file_overrides_a_default(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text('"thing:get": "role:admin"\n')
    e = Enforcer(RULES, path)
    assert not e.allowed(ctx("reader"), "thing:get", {"project_id": "p1"})
    assert e.allowed(ctx("member"), "thing:create", {"project_id": "p1"})


def test_unknown_rule_name_is_an_error(enforcer):
    with pytest.raises(KeyError):
        enforcer.allowed(ctx("admin"), "thing:missing")


@pytest.mark.parametrize("text", ["role:admin and", "(role:admin", "bogus", "role:a )"])
def test_malformed_rules_are_refused_at_load(text):
    with pytest.raises(ValueError):
        Enforcer({"x": text})
