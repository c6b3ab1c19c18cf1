/* A quick yes for keruen.model.strict.kept_is_canonical (the EPCIS bridge's kept event).

   `canonical(raw)` is True only for bytes that are certainly what the full parse writes for
   them (decoded, then encoded with sorted keys): no whitespace, object keys in strictly
   increasing order, text of printable ASCII without escapes, whole numbers of at most 18
   digits without a leading zero, lists, objects, true, false. Anything else -- another
   number, null, an escape, a byte outside printable ASCII, deep nesting --
   answers False, and the Python check (decode and encode) decides. So a True here is always
   the Python check's True; a False says nothing. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
    const unsigned char *p, *end;
} cursor;

static int value(cursor *c, int depth);

/* a string of printable ASCII without escapes; its bytes (without quotes) in *s, *n */
static int string(cursor *c, const unsigned char **s, Py_ssize_t *n) {
    if (c->p >= c->end || *c->p != '"') return 0;
    const unsigned char *start = ++c->p;
    while (c->p < c->end && *c->p != '"') {
        unsigned char b = *c->p;
        if (b < 0x20 || b >= 0x7f || b == '\\') return 0;
        c->p++;
    }
    if (c->p >= c->end) return 0;
    *s = start;
    *n = c->p - start;
    c->p++;
    return 1;
}

static int literal(cursor *c, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return 0;
    c->p += n;
    return 1;
}

static int object(cursor *c, int depth) {
    c->p++; /* '{' */
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 1;
    }
    const unsigned char *last = NULL;
    Py_ssize_t last_n = 0;
    for (;;) {
        const unsigned char *key;
        Py_ssize_t n;
        if (!string(c, &key, &n)) return 0;
        if (last != NULL) { /* strictly after the key before, as sorted code points */
            Py_ssize_t common = n < last_n ? n : last_n;
            int cmp = memcmp(last, key, (size_t)common);
            if (cmp > 0 || (cmp == 0 && last_n >= n)) return 0;
        }
        last = key;
        last_n = n;
        if (c->p >= c->end || *c->p != ':') return 0;
        c->p++;
        if (!value(c, depth + 1)) return 0;
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return 1;
        }
        return 0;
    }
}

static int array(cursor *c, int depth) {
    c->p++; /* '[' */
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return 1;
    }
    for (;;) {
        if (!value(c, depth + 1)) return 0;
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            return 1;
        }
        return 0;
    }
}

/* a whole number as it is written back: 0 or -?[1-9] and at most 17 more digits (an int64) */
static int integer(cursor *c) {
    const unsigned char *start = c->p;
    if (*c->p == '-') c->p++;
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') return 0;
    if (*c->p == '0') {
        c->p++;
        if (c->p - start != 1) return 0; /* (-0 is written back as 0) */
    } else {
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
        if (c->p - start > 18 + (*start == '-')) return 0;
    }
    return c->p == c->end || !(*c->p == '.' || *c->p == 'e' || *c->p == 'E' ||
                               (*c->p >= '0' && *c->p <= '9'));
}

static int value(cursor *c, int depth) {
    if (depth > MAX_DEPTH || c->p >= c->end) return 0;
    const unsigned char *s;
    Py_ssize_t n;
    switch (*c->p) {
    case '{': return object(c, depth);
    case '[': return array(c, depth);
    case '"': return string(c, &s, &n);
    case 't': return literal(c, "true");
    case 'f': return literal(c, "false");
    case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
    case '8': case '9': return integer(c);
    default: return 0;
    }
}

static PyObject *canonical(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    cursor c = {(const unsigned char *)view.buf, (const unsigned char *)view.buf + view.len};
    int ok = value(&c, 0) && c.p == c.end;
    PyBuffer_Release(&view);
    return PyBool_FromLong(ok);
}

static PyMethodDef methods[] = {
    {"canonical", canonical, METH_O,
     "canonical(raw): True if raw is certainly the canonical JSON of its value (else: unknown)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kept", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kept(void) { return PyModule_Create(&module); }
