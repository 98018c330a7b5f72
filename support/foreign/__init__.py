"""Re-typed copies of published non-local blocks from repositories that are not installable packages, so the
capture tests run their real forward passes.

Each copy keeps the original class names, attribute names and forward math, and sits where its module path ends
with the original file's path (``support.foreign.slowfast.models.nonlocal_helper`` ends with
``slowfast.models.nonlocal_helper``): nlviz finds foreign classes by that suffix, so the tests check that
matching as it works on the real repositories. The subfolders are namespace packages, as a repository's
folders are when its scripts import them. Each module's docstring names its source repository, file and
commit, and whatever was left out (prints, dead code).
"""
