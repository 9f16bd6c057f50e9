"""Collections: named variables sharing a sample axis, split into phases.

The engine does the work (``larder._Collection``); this module gives it
StoreGate's forms. ``var_names`` is a name (one variable: rows (N, ...)), a
tuple of names (variables side by side: (N, M, ...)) or a list of names (a
list of arrays). ``phase`` is a name, fractions such as ``(0.7, 0.2, 0.1)``
or counts such as ``[700, 200, 100]`` (of train, valid, test), or ``"all"``.
``index`` in :meth:`Collection.get` and :meth:`Collection.update` is
StoreGate's: ``-1`` means every row, an int one row, a ``(start, stop)``
tuple a range; slices, lists, arrays and masks work as in numpy. Item syntax
(``c["train"]["x"][0:2]``) indexes as numpy does, so ``[-1]`` is the last row.
"""

from ._larder import _Collection

_PHASES = ("train", "valid", "test")


def _names(var_names):
    """The variable names and how results are shaped: "one", "stacked", "list"."""
    if isinstance(var_names, str):
        return [var_names], "one"
    if isinstance(var_names, tuple):
        return list(var_names), "stacked"
    if isinstance(var_names, list):
        return list(var_names), "list"
    raise TypeError(f"var_names must be a str, a tuple or a list of str, not {type(var_names).__name__}")


def _per_variable(names, form, data, key):
    """Values to write into each variable: stacked data (N, M, ...) split
    along its variable axis (the first one for a single row)."""
    if form == "stacked":
        import numpy as np

        data = np.asarray(data)
        axis = 0 if isinstance(key, int) else 1
        return [np.take(data, i, axis=axis) for i in range(len(names))]
    return [data] if form == "one" else list(data)


def _key(index):
    """StoreGate's index forms as a numpy key."""
    if index is None or (isinstance(index, int) and not isinstance(index, bool) and index == -1):
        return slice(None)
    if isinstance(index, tuple) and len(index) == 2:
        return slice(index[0], index[1])
    return index


class Collection:
    """A collection of variables split into phases, in a larder store.

    ``Collection(store, data_id)`` opens (or, on the first add, creates) the
    group ``/<data_id>``; variable ``v`` of phase ``p`` is ``/<data_id>/<p>/<v>``,
    the layout multiml's StoreGate writes with its zarr backend. ``codec``
    (and ``level``) compress the variables it creates; ``chunk_rows`` sets
    their rows per chunk.
    """

    def __init__(self, store, data_id, *, codec=None, level=None, chunk_rows=0):
        self._c = _Collection(store, data_id, codec, level, chunk_rows)
        self._store = store  # the collection reads through it: keep it alive

    @staticmethod
    def data_ids(store):
        """Names of the collections in ``store``."""
        return _Collection.data_ids(store)

    @property
    def data_id(self):
        return self._c.data_id

    @property
    def phases(self):
        """Phases that exist: train, valid, test first, then others by name."""
        return self._c.phases()

    # -- adding and changing ------------------------------------------------

    def add(self, var_names, data, phase="train", shuffle=False, *, phases=None):
        """Appends rows, creating variables that do not exist yet.

        ``data`` follows ``var_names``: (N, ...) for a name, (N, M, ...) for a
        tuple of M names, a list of arrays for a list. A list of arrays of
        different lengths stores ragged records. ``shuffle`` (True for seed 0,
        or an int seed) shuffles the rows before splitting, in a copy.
        ``phases`` names the phases fractions or counts fill (default train,
        valid, test).
        """
        names, form = _names(var_names)
        if form == "one":
            columns = [data]
        elif form == "stacked":
            import numpy as np

            data = np.asarray(data)
            if data.ndim < 2 or data.shape[1] != len(names):
                raise ValueError(
                    f"data for {len(names)} stacked variables needs shape (N, {len(names)}, ...), "
                    f"got {data.shape}"
                )
            columns = [data[:, i] for i in range(len(names))]
        else:
            if len(data) != len(names):
                raise ValueError(f"{len(names)} variable names for {len(data)} arrays")
            columns = list(data)
        if isinstance(phase, str) and phase in ("all", "auto"):
            phase, phases = self._compiled_counts()
        seed = None if shuffle is False or shuffle is None else (0 if shuffle is True else int(shuffle))
        self._c.add(names, columns, phase, phases, seed)

    def _compiled_counts(self):
        meta = self._c.metadata()
        if meta is None:
            raise ValueError('phase="all" splits by the compiled sizes: compile() the collection first')
        return [meta["sizes"][p] for p in meta["phases"]], list(meta["phases"])

    def update(self, var_names, data, phase="train", index=-1):
        """Writes rows of existing variables (or adds a variable, for index=-1)."""
        names, form = _names(var_names)
        key = _key(index)
        for name, values in zip(names, _per_variable(names, form, data, key)):
            self._c.update(phase, name, key, values)

    def create_empty(self, var_names, shape, phase="train", dtype="f4"):
        """Zero-filled variables of ``shape`` (rows first), split as in add()."""
        names, _ = _names(var_names)
        self._c.create_empty(names, list(shape), phase, dtype)

    def delete(self, var_names, phase="train"):
        """Removes whole variables (from every phase for phase="all")."""
        names, _ = _names(var_names)
        for p in self.phases if phase == "all" else [phase]:
            for name in names:
                if phase != "all" or self._c.contains(p, name):
                    self._c.remove(p, name)

    def clear(self):
        """Removes the whole collection."""
        self._c.clear()

    # -- reading -------------------------------------------------------------

    def get(self, var_names, phase="train", index=-1):
        """Rows of variables: (N, ...) for a name, (N, M, ...) for a tuple, a list for a list.

        phase="all" reads the phases back to back. Ragged variables come back
        as lists of arrays.
        """
        return self._read(var_names, phase, _key(index))

    def _read(self, var_names, phase, key):
        """get() with a numpy key."""
        names, form = _names(var_names)
        if form == "stacked":
            return self._c.get_stacked(phase, names, key)
        values = [self._c.get(phase, name, key) for name in names]
        return values[0] if form == "one" else values

    def var_names(self, phase="train"):
        return self._c.variables(phase)

    def shapes(self, var_names, phase="train"):
        """Per-sample shapes (the sample axis left out): a tuple, or a list of them."""
        names, form = _names(var_names)
        shapes = [self._c.info(phase, name)["shape"] for name in names]
        return shapes[0] if form == "one" else shapes

    def info(self, var_name, phase="train"):
        """kind ("dense", "jagged", "shaped"), dtype, shape, rows and in_memory of a variable."""
        return self._c.info(phase, var_name)

    def size(self, phase="train"):
        """Rows of a phase (every variable has as many)."""
        if phase == "all":
            return sum(self._c.size(p) for p in self.phases)
        return self._c.size(phase)

    # -- metadata --------------------------------------------------------------

    def compile(self):
        """Checks that the variables of each phase have equal lengths; stores and returns the metadata."""
        return self._c.compile()

    @property
    def metadata(self):
        """What compile() stored, or None if something changed since."""
        return self._c.metadata()

    @property
    def compiled(self):
        return self._c.metadata() is not None

    # -- whole-variable operations ----------------------------------------------

    def _each_phase(self, phase):
        return self.phases if phase == "all" else [phase]

    def astype(self, var_names, dtype, phase="train"):
        names, _ = _names(var_names)
        for p in self._each_phase(phase):
            for name in names:
                self._c.astype(p, name, dtype)

    def onehot(self, var_names, num_classes, phase="train", dtype="f4"):
        names, _ = _names(var_names)
        for p in self._each_phase(phase):
            for name in names:
                self._c.onehot(p, name, num_classes, dtype)

    def argmax(self, var_names, axis=1, phase="train"):
        names, _ = _names(var_names)
        for p in self._each_phase(phase):
            for name in names:
                self._c.argmax(p, name, axis)

    def shuffle(self, phase="all", seed=0):
        """Puts the rows of every variable of the phase(s) in one seeded random order."""
        for p in self._each_phase(phase):
            self._c.shuffle(p, seed)

    def to_memory(self, var_names, phase="train"):
        """Copies variables into RAM; reads and writes of them go there until to_storage()."""
        names, _ = _names(var_names)
        for p in self._each_phase(phase):
            self._c.to_memory(names, p)

    def to_storage(self, var_names, phase="train"):
        """Writes variables held in RAM back to the store and frees the RAM."""
        names, _ = _names(var_names)
        for p in self._each_phase(phase):
            self._c.to_storage(names, p)

    # -- item syntax ---------------------------------------------------------------

    def __getitem__(self, phase):
        if not isinstance(phase, str):
            raise TypeError(f"index a collection by phase name, not {type(phase).__name__}")
        if phase != "all" and not self._c.has_phase(phase):
            raise KeyError(f"collection '{self.data_id}' has no phase '{phase}' (phases: {', '.join(self.phases) or 'none'})")
        return Phase(self, phase)

    def __contains__(self, phase):
        return isinstance(phase, str) and self._c.has_phase(phase)

    def __iter__(self):
        return iter(self.phases)

    def show_info(self):
        """A table of phases and variables: kind, dtype, rows, per-sample shape."""
        lines = [f"collection '{self.data_id}' in {self._c.file}"]
        lines.append(f"  {'phase':<8} {'variable':<20} {'kind':<7} {'dtype':<8} {'rows':>10}  shape")
        for p in self.phases:
            for name in self._c.variables(p):
                i = self._c.info(p, name)
                where = " (memory)" if i["in_memory"] else ""
                lines.append(
                    f"  {p:<8} {name:<20} {i['kind']:<7} {str(i['dtype']):<8} {i['rows']:>10}  "
                    f"{i['shape']}{where}"
                )
        return "\n".join(lines)

    def __repr__(self):
        return f"<larder.Collection '{self.data_id}': phases {', '.join(self.phases) or 'none'}>"


class Phase:
    """One phase of a collection: ``p["x"]``, ``p[("a", "b")]``, ``len(p)``, ``"x" in p``.

    A Phase is a view holding its own phase name: ``c["train"]`` and
    ``c["test"]`` never share state.
    """

    def __init__(self, collection, name):
        self._collection = collection
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def collection(self):
        return self._collection

    @property
    def var_names(self):
        c = self._collection
        if self._name == "all":
            return [v for v in c._c.variables(c.phases[0])] if c.phases else []
        return c._c.variables(self._name)

    def __getitem__(self, var_names):
        _names(var_names)  # checks the form
        return Variables(self, var_names)

    def __setitem__(self, var_names, data):
        self._collection.update(var_names, data, phase=self._name, index=-1)

    def __delitem__(self, var_names):
        self._collection.delete(var_names, phase=self._name)

    def __len__(self):
        return self._collection.size(self._name)

    def __contains__(self, var_name):
        return isinstance(var_name, str) and self._collection._c.contains(self._name, var_name)

    def __iter__(self):
        return iter(self.var_names)

    def _loader_columns(self):
        """(name, larder.Dataset or larder.Ragged) per variable, for larder.Loader."""
        if self._name == "all":
            raise ValueError('a loader reads one phase, not "all"')
        c = self._collection._c
        return [(name, c.column(self._name, name)) for name in c.variables(self._name)]

    def __repr__(self):
        return f"<larder.Phase '{self._name}' of '{self._collection.data_id}': {', '.join(self.var_names)}>"


class Variables:
    """Variables of a phase, indexed like numpy arrays along the sample axis."""

    def __init__(self, phase, var_names):
        self._phase = phase
        self._var_names = var_names

    def __getitem__(self, key):
        return self._phase.collection._read(self._var_names, self._phase.name, key)

    def __setitem__(self, key, data):
        names, form = _names(self._var_names)
        c = self._phase.collection._c
        for name, values in zip(names, _per_variable(names, form, data, key)):
            c.update(self._phase.name, name, key, values)

    def __len__(self):
        names, _ = _names(self._var_names)
        return self._phase.collection._c.info(self._phase.name, names[0])["rows"]

    def __array__(self, dtype=None):
        import numpy as np

        values = self[:]
        return np.asarray(values, dtype=dtype)

    def __repr__(self):
        return f"<larder.Variables {self._var_names!r} of phase '{self._phase.name}'>"
