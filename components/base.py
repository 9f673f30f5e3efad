"""What every webstack component shares: children named after it and created through one helper."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi


class Component(pulumi.ComponentResource):
    """A ComponentResource whose children are all created with `self.child(...)` options."""

    def __init__(self, type_: str, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_, name, None, opts)
        # Every child's logical name starts with the component's own.
        self.prefix = name

    def child(
        self,
        depends_on: Sequence[pulumi.Resource] = (),
        protect: bool = False,
        delete_before_replace: bool | None = None,
        replacement_trigger: pulumi.Input[object] | None = None,
    ) -> pulumi.ResourceOptions:
        """Options for a child: parented here; `protect` also retains it if it leaves the program,
        so deleting the stack, or the code, never deletes the data. `delete_before_replace` is
        for children with a fixed physical name, which a replacement cannot create beside the
        old one."""
        return pulumi.ResourceOptions(
            parent=self,
            depends_on=list(depends_on),
            protect=protect,
            retain_on_delete=protect,
            delete_before_replace=delete_before_replace,
            replacement_trigger=replacement_trigger,
        )
