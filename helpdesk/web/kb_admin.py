"""Administration of knowledge-base categories: list them as a tree with their article counts, create, rename
(the articles follow), nest under another category, move up or down among siblings, delete an unused one.

Every action is a plain form (works without JavaScript and from the keyboard); a refused form shows the page
again with the message next to the field, in the reader's language.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from helpdesk.core.errors import DomainError
from helpdesk.core.principal import Principal, PrincipalDep
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.web.admin import ADMIN
from helpdesk.web.forms import convert, submit_form
from helpdesk.web.i18n import translations
from helpdesk.web.render import (
    FormState,
    Req,
    checked_form,
    field,
    form_page,
    language_of,
    optional_int,
    require_staff,
)
from knowledge_base.categories import CategoryInUse, CategoryService, Direction
from knowledge_base.schemas import CategoryCreate, CategoryRead, CategoryUpdate

PAGE = "/admin/kb-categories"
NEW = "new"  # the form name of the "new category" form; existing ones are "c<id>"


def category_payload(values: dict[str, str]) -> dict[str, Any]:
    # An empty parent is the top level; a value that is not a number is left for the schema to name.
    parent = values["parent_id"]
    return {"name": values["name"], "parent_id": int(parent) if parent.isdigit() else parent or None}


def parent_choices(items: list[CategoryRead]) -> dict[int, list[CategoryRead]]:
    """For each category, the ones it may be nested under: not itself, not its subcategories (``items`` is in
    tree order, so a category's subcategories are the deeper ones right after it)."""
    choices = {}
    for index, category in enumerate(items):
        below = {category.id}
        for other in items[index + 1 :]:
            if other.depth <= category.depth:
                break
            below.add(other.id)
        choices[category.id] = [c for c in items if c.id not in below]
    return choices


def explain(request: Req, principal: Principal) -> Any:
    """The category service's refusals in the reader's language, on the field they concern."""
    words = translations(language_of(request, principal))

    def explain_error(exc: DomainError) -> dict[str, str] | None:
        if isinstance(exc, CategoryInUse):
            message = words.ngettext(
                "%(num)s article uses this category: move it to another category first.",
                "%(num)s articles use this category: move them to another category first.",
                exc.article_count,
            )
            return {"": message % {"num": exc.article_count}}
        messages = {
            "name_taken": ("name", words.gettext("A category with this name exists already.")),
            "category_has_children": (
                "",
                words.gettext("This category has subcategories: move or delete them first."),
            ),
            "category_cycle": (
                "parent_id",
                words.gettext("A category cannot be nested under itself or one of its subcategories."),
            ),
            "not_found": ("", words.gettext("This category no longer exists.")),
        }
        if exc.code == "invalid_input" and exc.field == "parent_id":
            return {"parent_id": words.gettext("Choose a category from the list.")}
        if exc.code in messages:
            name, message = messages[exc.code]
            return {name: message}
        return None

    return explain_error


class KnowledgeCategoryPages(Controller):
    path = PAGE
    include_in_schema = False

    @get("/")
    async def categories(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        require_staff(principal, ADMIN)
        return await _categories_page(request, principal, runtime)

    @post("/")
    async def create(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template | Redirect:
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        values = {"name": field(form, "name"), "parent_id": field(form, "parent_id")}
        gettext = translations(language_of(request, principal)).gettext

        async def create_category() -> Template | Redirect:
            data = convert(category_payload(values), CategoryCreate, gettext=gettext)
            created = await CategoryService(runtime).create(principal, data)
            return Redirect(f"{PAGE}?saved={created.id}#c{created.id}", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _categories_page(request, principal, runtime, FormState(NEW, values, errors))

        return await submit_form(create_category, show, explain=explain(request, principal))

    @post("/{category_id:int}")
    async def update(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, category_id: FromPath[int]
    ) -> Template | Redirect:
        """Rename the category and/or nest it under another one (empty parent: the top level)."""
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        values = {"name": field(form, "name"), "parent_id": field(form, "parent_id")}
        gettext = translations(language_of(request, principal)).gettext

        async def update_category() -> Template | Redirect:
            data = convert(category_payload(values), CategoryUpdate, gettext=gettext)
            await CategoryService(runtime).update(principal, category_id, data)
            return Redirect(f"{PAGE}?saved={category_id}#c{category_id}", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _categories_page(
                request, principal, runtime, FormState(f"c{category_id}", values, errors)
            )

        return await submit_form(update_category, show, explain=explain(request, principal))

    @post("/{category_id:int}/move")
    async def move(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, category_id: FromPath[int]
    ) -> Template | Redirect:
        """Move the category up or down among its siblings (``direction``)."""
        require_staff(principal, ADMIN)
        form = await checked_form(request, principal)
        direction: Direction = "up" if field(form, "direction") == "up" else "down"

        async def move_category() -> Template | Redirect:
            await CategoryService(runtime).move(principal, category_id, direction)
            return Redirect(f"{PAGE}?saved={category_id}#c{category_id}", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _categories_page(
                request, principal, runtime, FormState(f"c{category_id}", {}, errors)
            )

        return await submit_form(move_category, show, explain=explain(request, principal))

    @post("/{category_id:int}/delete")
    async def delete(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, category_id: FromPath[int]
    ) -> Template | Redirect:
        """Delete the category; refused (with the reason at its row) while articles or subcategories use it."""
        require_staff(principal, ADMIN)
        await checked_form(request, principal)

        async def delete_category() -> Template | Redirect:
            await CategoryService(runtime).delete(principal, category_id)
            return Redirect(f"{PAGE}?deleted=1", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _categories_page(
                request, principal, runtime, FormState(f"c{category_id}", {}, errors)
            )

        return await submit_form(delete_category, show, explain=explain(request, principal))


async def _categories_page(
    request: Req, principal: Principal, runtime: Runtime, state: FormState | None = None
) -> Template:
    tree = await CategoryService(runtime).list_categories(principal)
    return form_page(
        request,
        principal,
        "admin/kb_categories.html",
        state,
        categories=tree.items,
        parent_choices=parent_choices(tree.items),
        unlisted=tree.unlisted,
        # The category just saved, by id: its row is marked.
        saved=optional_int(request.query_params.get("saved")),
        deleted=request.query_params.get("deleted"),
    )
