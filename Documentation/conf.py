# SPDX-License-Identifier: GPL-2.0
# Sphinx configuration of `make docs`.  The kernel-doc directive is the
# kernel's own extension (Documentation/sphinx/kerneldoc.py of the 6.1
# source), which the Makefile extracts into build/linux with scripts/kernel-doc.
import os
import sys

top = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
linux = os.path.join(top, 'build', 'linux')
sys.path.insert(0, os.path.join(linux, 'Documentation', 'sphinx'))

project = 'memtopo'
author = 'memtopo developers'
copyright = 'memtopo developers, GPL-2.0'

extensions = ['kerneldoc']
kerneldoc_bin = os.path.join(linux, 'scripts', 'kernel-doc')
kerneldoc_srctree = top

root_doc = 'index'
exclude_patterns = []
primary_domain = 'c'
highlight_language = 'none'
# Attributes that may precede a declaration kernel-doc hands to the C domain.
c_id_attributes = ['__must_check', '__always_inline', '__init', '__exit']
html_theme = 'alabaster'
html_title = 'memtopo'
html_show_sourcelink = False


def setup(app):
    """Teach the kernel-doc directive's :export: the EXPORT_SYMBOL_NS forms.

    6.1's scripts/kernel-doc only recognises EXPORT_SYMBOL() and
    EXPORT_SYMBOL_GPL(); memtopo exports everything into the MEMTOPO
    namespace.  ``:export:`` with no file pattern therefore becomes
    ``:identifiers:`` naming the functions the file exports.
    """
    import re
    from kerneldoc import KernelDocDirective

    export_ns = re.compile(r'^\s*EXPORT_SYMBOL_NS(?:_GPL)?\s*\(\s*(\w+)\s*,', re.M)

    class NsKernelDocDirective(KernelDocDirective):
        def run(self):
            if 'export' in self.options and not self.options['export']:
                path = os.path.join(kerneldoc_srctree, self.arguments[0])
                with open(path, encoding='utf-8') as f:
                    names = export_ns.findall(f.read())
                del self.options['export']
                self.options['identifiers'] = ' '.join(names)
            return super().run()

    app.add_directive('kernel-doc', NsKernelDocDirective, override=True)
