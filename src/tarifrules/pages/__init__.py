"""Pages people read: the tariff sheet of a rule file (HTML, SVG chart), the index and
comparison of versions (`tarifrules doc`), and the explanation letter to a family
(`tarifrules explain --format lettre`).

Modules: `html` (escaping, page shell, print style), `curves` (outputs against the
quotient familial, from the evaluator), `chart` (SVG), `grids` (grid tables), `sheet`
(one file's page), `versions` (successive versions), `site` (writing a folder),
`letter` (the CRPA letter), `alternatives` (what would change the result).
"""

from .site import Site, build_site

__all__ = ["Site", "build_site"]
