"""Limits against hostile queries, all checked before anything runs: depth, aliases, tokens, cost.

Each refusal names the limit and its value. Introspection is switched by
`Settings.graphql_introspection` (read per request, so one schema serves both configurations).
"""

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    is_composite_type,
    value_from_ast_untyped,
    visit,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.schema import validate_document

from service.pagination import DEFAULT_LIMIT

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 3000
# The heaviest page REST itself answers, a commissioner's full portfolio page with every status
# field, costs about 50,000; twice that leaves room without letting pages of pages through.
MAX_COST = 100_000
# A plain list (a touchpoint's innovations, a staff member's services) is short; it counts as this
# many, unless its items are of a type whose lists have a known size.
LIST_SIZE_ESTIMATE = 10
PARSED_DOCUMENTS = 512
LIST_SIZES = {
    "Indicator": 8,  # the eight indicators
    "QualityStatement": 2,  # CQC statements an indicator speaks to
    "StageReason": 3,
    "DriftSignal": 8,
    "MonthOutcome": 12,
    "StatusPoint": 12,  # a history's default months
    "FieldProblem": 3,
    "InnovationStatuses": 5,  # a provider's innovations
    "EmbeddingStatus": 5,  # an innovation's services
}
PAGE_ARGUMENT = "first"


def _unwrap(type_: Any) -> tuple[Any, bool]:
    """The named type behind a field type, and whether a list sits in between."""
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            is_list = True
        type_ = type_.of_type
    return type_, is_list


def _is_connection(type_: Any) -> bool:
    return isinstance(type_, GraphQLObjectType) and type_.name.endswith("Connection")


def _is_edge_list(type_: Any) -> bool:
    return isinstance(type_, GraphQLObjectType) and type_.name.endswith("Edge")


class QueryCost:
    """The number of objects a query may resolve: a connection's `first` multiplies what is below it.

    Every composite field costs 1 per parent object; scalars are free (they come with their object),
    and so are a connection's edges (their nodes are counted). A connection without `first` counts as
    its default page size; a plain list as LIST_SIZES says for its item type, else LIST_SIZE_ESTIMATE.
    Introspection fields are free.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def of_operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return self._selection_set(operation.selection_set, root, 1, frozenset())

    def _selection_set(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        multiplier: int,
        seen: frozenset[str],
        page: int | None = None,
    ) -> int:
        """`page`: the `first` of the field that returned `parent`, for a connection below it."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, multiplier, seen, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                total += self._selection_set(selection.selection_set, condition, multiplier, seen, page)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                condition = self.schema.get_type(fragment.type_condition.name.value)
                total += self._selection_set(
                    fragment.selection_set, condition, multiplier, seen | {name}, page
                )
        return total

    def _field(
        self, node: FieldNode, parent: Any, multiplier: int, seen: frozenset[str], page: int | None
    ) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        fields = parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
        definition = fields.get(name)
        if definition is None:
            # Unions expose no fields of their own; an unknown field is left to validation.
            return 0 if isinstance(parent, GraphQLUnionType) else multiplier
        named, is_list = _unwrap(definition.type)
        if not is_composite_type(get_named_type(named)):
            return 0
        if _is_edge_list(named):
            # An edge comes with its node, which is what is counted.
            return self._selection_set(node.selection_set, named, multiplier, seen)
        if is_list:
            # Each object of the list counts, and so does what is asked of each.
            objects = multiplier * LIST_SIZES.get(getattr(named, "name", ""), LIST_SIZE_ESTIMATE)
            return objects + self._selection_set(node.selection_set, named, objects, seen)
        paged = PAGE_ARGUMENT in definition.args
        if _is_connection(named):
            # A connection is paged by its own `first`, or by the one of the field above it
            # (`portfolioStatus(first:) { providers }`).
            factor = self._page_size(node, definition) if paged else page or DEFAULT_LIMIT
            return multiplier + self._selection_set(node.selection_set, named, multiplier * factor, seen)
        below = self._page_size(node, definition) if paged else None
        return multiplier + self._selection_set(node.selection_set, named, multiplier, seen, below)

    def _page_size(self, node: FieldNode, definition: Any) -> int:
        """`first` as given (literal or variable), else the field's own default, else REST's."""
        argument = definition.args.get(PAGE_ARGUMENT) if definition is not None else None
        default = argument.default_value if argument is not None else None
        fallback = default if isinstance(default, int) and default > 0 else DEFAULT_LIMIT
        for given in node.arguments or ():
            if given.name.value != PAGE_ARGUMENT:
                continue
            value = given.value
            if isinstance(value, VariableNode):
                supplied = self.variables.get(value.name.value)
                return supplied if isinstance(supplied, int) and supplied > 0 else fallback
            if isinstance(value, IntValueNode):
                return max(int(value.value), 1)
            literal = value_from_ast_untyped(value)
            return literal if isinstance(literal, int) and literal > 0 else fallback
        return fallback


def query_cost(schema: GraphQLSchema, document: Any, variables: Mapping[str, Any] | None) -> int:
    """The highest cost of the document's operations (only one runs, but any may be chosen)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    costing = QueryCost(schema, fragments, _with_defaults(document, variables or {}))
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return max((costing.of_operation(op) for op in operations), default=0)


def _with_defaults(document: Any, variables: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                if variable.default_value is not None:
                    merged[variable.variable.name.value] = value_from_ast_untyped(variable.default_value)
    merged.update(variables)
    return merged


def _holds_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _nul_error(name: str) -> GraphQLError:
    return GraphQLError(
        f"{name} may not contain the NUL character (U+0000)",
        extensions={
            "code": "BAD_USER_INPUT",
            "status": 422,
            "errors": [{"field": name, "rule": "nul_character", "message": "may not contain U+0000"}],
        },
    )


def nul_argument_errors(
    schema: GraphQLSchema, document: Any, variables: Mapping[str, Any] | None, query: str | None = None
) -> list[GraphQLError]:
    """Text arguments (filters, cursors) holding NUL, which Postgres cannot store or compare.

    Input objects are left out: they are validated by the REST input models, which refuse NUL by
    field, so one bad item of a batch is refused on its own.
    """
    errors: list[GraphQLError] = []
    given = variables or {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for variable in definition.variable_definitions or ():
            type_node: Any = variable.type
            while not isinstance(type_node, NamedTypeNode):
                type_node = type_node.type  # through non-null and list wrappers
            if isinstance(schema.get_type(type_node.name.value), GraphQLInputObjectType):
                continue
            name = variable.variable.name.value
            if _holds_nul(given.get(name)):
                errors.append(_nul_error(f"${name}"))

    class Literals(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            values = node.value.values if isinstance(node.value, ListValueNode) else (node.value,)
            if any(isinstance(v, StringValueNode) and "\x00" in v.value for v in values):
                errors.append(_nul_error(node.name.value))

    # A literal can only hold NUL written as an escape (the lexer refuses a raw one): most documents
    # have no escape at all and are not walked.
    if query is None or "\\u" in query:
        visit(document, Literals())
    return errors


# Documents that passed validation, by their text and the rules they passed: validating a dashboard's
# query costs far more than running it, and the same few queries arrive again and again. Bounded, so
# a stream of distinct documents cannot grow it; refused documents are not kept.
VALIDATED_DOCUMENTS = 512
_validated: OrderedDict[tuple[str, tuple[Any, ...]], None] = OrderedDict()


def _already_valid(query: str, rules: tuple[Any, ...]) -> bool:
    key = (query, rules)
    if key in _validated:
        _validated.move_to_end(key)
        return True
    return False


def _remember_valid(query: str, rules: tuple[Any, ...]) -> None:
    _validated[(query, rules)] = None
    if len(_validated) > VALIDATED_DOCUMENTS:
        _validated.popitem(last=False)


class QueryCostLimiter(SchemaExtension):
    """Validates the document (once per distinct text), then refuses it if its cost exceeds `max_cost`.

    The cost needs the variables (a `first: $n`), which graphql-core's validation rules do not see,
    so this runs the schema's validation itself and adds the cost check, per request, to its result.
    """

    def __init__(self, max_cost: int = MAX_COST) -> None:
        self.max_cost = max_cost

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.pre_execution_errors is None and document is not None:
            graphql_schema = context.schema._schema
            rules = tuple(context.validation_rules)
            query = context.query or ""
            errors: list[GraphQLError] = []
            if not (query and _already_valid(query, rules)):
                errors = validate_document(graphql_schema, document, rules)
                if not errors and query:
                    _remember_valid(query, rules)
            if not errors:
                errors = nul_argument_errors(graphql_schema, document, context.variables, context.query)
            if not errors:
                cost = query_cost(graphql_schema, document, context.variables)
                if cost > self.max_cost:
                    errors = [
                        GraphQLError(
                            f"query cost {cost} exceeds the maximum query cost of {self.max_cost}; "
                            "ask for smaller pages (`first`) or fewer nested lists",
                            extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": self.max_cost},
                        )
                    ]
            context.pre_execution_errors = errors
        yield


class IntrospectionSwitch(SchemaExtension):
    """Adds graphql-core's no-introspection rule when the settings turn introspection off."""

    def on_operation(self) -> Iterator[None]:
        settings = getattr(self.execution_context.context, "settings", None)
        if settings is not None and not settings.graphql_introspection:
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield


# Validation rules are built once; each request gets fresh extension objects around them.
_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


def limit_extensions() -> list[Any]:
    """Factories, so each request gets extensions of its own.

    The rule-adding extensions run (on_operation) before the cost limiter validates with their rules.
    """
    return [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        # After the token limit (it sets the parser's options, which are part of the cache key).
        lambda: ParserCache(maxsize=PARSED_DOCUMENTS),
        lambda: AddValidationRules(_RULES),
        IntrospectionSwitch,
        lambda: QueryCostLimiter(MAX_COST),
    ]
