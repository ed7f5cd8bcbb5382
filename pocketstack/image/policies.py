"""The image service's policy defaults (Glance's secure-RBAC defaults).

Reading is decided by visibility in the queries (store.can_see); these rules
decide who may act on an image they can see. Targets carry the image's
`owner` and, for members, `member_id`.
"""

OWNER_MEMBER = "role:admin or (role:member and project_id:%(owner)s)"

DEFAULTS: dict[str, str] = {
    "image_owner_member": OWNER_MEMBER,
    "image:get_images": "role:reader",
    "image:get_image": "role:reader",
    "image:download_image": "role:reader",
    "image:add_image": "rule:image_owner_member",
    "image:modify_image": "rule:image_owner_member",
    "image:delete_image": "rule:image_owner_member",
    "image:upload_image": "rule:image_owner_member",
    "image:stage_image": "rule:image_owner_member",
    "image:import_image": "rule:image_owner_member",
    "image:deactivate": "rule:image_owner_member",
    "image:reactivate": "rule:image_owner_member",
    "image:publicize_image": "role:admin",
    "image:communitize_image": "rule:image_owner_member",
    "image:set_owner": "role:admin",
    "image:download_deactivated": "role:admin",
    "image:add_member": "rule:image_owner_member",
    "image:delete_member": "rule:image_owner_member",
    "image:get_members": "role:admin or (role:reader and (project_id:%(owner)s or "
                         "project_id:%(member_id)s))",
    "image:get_member": "role:admin or (role:reader and (project_id:%(owner)s or "
                        "project_id:%(member_id)s))",
    "image:modify_member": "role:admin or (role:member and project_id:%(member_id)s)",
}
