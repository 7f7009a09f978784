#!/usr/bin/env python3
"""Print the import cycles between dockerhub_cli's modules (exit 1 if there is any).

The graph comes from grimp (the library import-linter is built on) and holds every import
statement, at module level or inside a function (a lazy import is still a dependency: lazy
imports are for start-up time, not a way to hide a circle). Imports under ``if TYPE_CHECKING:``
count too unless ``--runtime-only`` is given.

A cycle is a strongly connected component of more than one module (or a module importing
itself). ``--count`` prints only the number of modules caught in cycles and the number of
components.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

PACKAGE = "dockerhub_cli"


def import_graph(runtime_only: bool = False) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports directly."""
    import grimp

    graph = grimp.build_graph(PACKAGE, exclude_type_checking_imports=runtime_only, cache_dir=None)
    return {
        module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with a circle in them (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    found.append(sorted(component))
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime-only", action="store_true", help="ignore TYPE_CHECKING imports")
    parser.add_argument("--count", action="store_true", help="print only the totals")
    args = parser.parse_args(argv)
    edges = import_graph(runtime_only=args.runtime_only)
    found = cycles(edges)
    modules = sum(len(c) for c in found)
    if not args.count:
        for component in found:
            print(f"cycle of {len(component)} modules:")
            for member in component:
                inside = sorted(edges[member] & set(component))
                print(f"  {member} -> {', '.join(inside)}")
    print(f"{len(found)} import cycle(s) involving {modules} module(s)", end=" ")
    print(f"({len(edges)} modules in the graph)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
