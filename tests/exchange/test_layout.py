"""bot.exchange has no import circles, and the product's simulator runs without the test harness."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports (at module level or inside functions)."""
    base = ROOT.joinpath(*package.split("."))
    modules = {}
    for path in base.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def test_bot_exchange_has_no_import_circle() -> None:
    graph = import_graph("bot.exchange")
    assert len(graph) > 30
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError(" -> ".join([*path[path.index(module):], module]))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_the_simulator_command_does_not_import_the_test_harness() -> None:
    code = ("import sys, bot.cli.commands, bot.exchange.simulator.main; "
            "print(sorted(m for m in sys.modules if m.startswith('bot.devtools')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
