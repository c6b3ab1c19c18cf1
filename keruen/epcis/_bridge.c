/* The EPCIS bridge's fast paths in C: the CBV 2.0 pre-hash string (keruen.epcis.hashing),
   reading a JSON event into the one form (keruen.epcis.document, below) and the kept event's
   plain text (keruen.epcis.mapping.plain, below). The pre-hash first:

   `prehash(event)` walks an event (the form keruen.epcis.document gives) exactly as
   keruen/epcis/hashing.py does, function for function, and builds the same string. Leaf
   values it can prove canonical as they stand (whole numbers a double holds, text that is
   neither a CBV URN, a number nor a GS1 identifier, times already in UTC) are taken as they
   are; every other leaf is handed to the Python functions `configure` gave it
   (canonical_value, canonical_time, _text), so their answers stay Python's. Containers that
   are not exact dicts and lists, or keys that are not text, make it answer None: Python
   hashes that event. The Python module is the specification; this file only repeats it. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *py_value = NULL; /* hashing.canonical_value */
static PyObject *py_time = NULL;  /* hashing.canonical_time */
static PyObject *py_text = NULL;  /* hashing._text */
static PyObject *Fallback = NULL; /* raised inside: the caller answers None */
static PyObject *EMPTY = NULL;

/* interned names */
static PyObject *S_type, *S_text, *S_atvalue, *S_epc, *S_id, *S_set, *S_unset,
    *S_sensorMetadata, *S_sensorReport, *S_sensorElementList, *S_readPoint, *S_bizLocation,
    *S_quantityElement, *S_sensorElement, *S_eventType_eq, *S_TYPED_KEYS[3], *S_TYPED_ENTRIES[3];

static const char *QUANTITY_FIELDS[] = {"epcClass", "quantity", "uom", NULL};
static const char *METADATA_FIELDS[] = {"time", "startTime", "endTime", "deviceID",
                                        "deviceMetadata", "rawData", "dataProcessingMethod",
                                        "bizRules", NULL};
static const char *REPORT_FIELDS[] = {
    "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod",
    "time", "microorganism", "chemicalSubstance", "value", "component", "stringValue",
    "booleanValue", "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue", "sDev",
    "percRank", "percValue", "uom", "coordinateReferenceSystem", NULL};
static const char *ID_FIELDS[] = {"id", NULL};
static const char *SENSOR_ELEMENT_FIELDS[] = {"sensorMetadata", "sensorReport", NULL};
static const char *PERSISTENT_FIELDS[] = {"set", "unset", NULL};
static const char *QUANTITY_LISTS[] = {"quantityList", "childQuantityList", "inputQuantityList",
                                       "outputQuantityList", NULL};
static const char *IGNORED[] = {"type", "eventID", "recordTime", "errorDeclaration", NULL};
static const char *TIME_FIELDS[] = {"eventTime", "time", "startTime", "endTime", NULL};

enum render { SIMPLE, EPC_LIST, QUANTITY_LIST, PERSISTENT, LOCATION, SENSOR_LIST };
static const struct {
    const char *name;
    enum render how;
} ORDER[] = {
    {"eventTime", SIMPLE},          {"eventTimeZoneOffset", SIMPLE},
    {"certificationInfo", SIMPLE},  {"parentID", SIMPLE},
    {"epcList", EPC_LIST},          {"inputEPCList", EPC_LIST},
    {"childEPCs", EPC_LIST},        {"quantityList", QUANTITY_LIST},
    {"childQuantityList", QUANTITY_LIST}, {"inputQuantityList", QUANTITY_LIST},
    {"outputEPCList", EPC_LIST},    {"outputQuantityList", QUANTITY_LIST},
    {"action", SIMPLE},             {"transformationID", SIMPLE},
    {"bizStep", SIMPLE},            {"disposition", SIMPLE},
    {"persistentDisposition", PERSISTENT}, {"readPoint", LOCATION},
    {"bizLocation", LOCATION},      {"sensorElementList", SENSOR_LIST},
};
#define N_ORDER ((int)(sizeof(ORDER) / sizeof(ORDER[0])))

/* name sets as Python frozensets (built once) */
static PyObject *ORDER_NAMES[N_ORDER];
static PyObject *SKIP, *QUANTITY_KNOWN, *METADATA_KNOWN, *REPORT_KNOWN, *ID_KNOWN,
    *SENSOR_KNOWN, *TIME_KNOWN, *TYPED_LISTS;
static PyObject *QUANTITY_NAMES[4], *QUANTITY_FIELD_NAMES[3], *METADATA_NAMES[8],
    *REPORT_NAMES[23], *ID_NAMES[1], *PERSISTENT_NAMES[2];

static PyObject *name_set(const char **names, PyObject **out) {
    PyObject *set = PySet_New(NULL);
    if (set == NULL) return NULL;
    for (int i = 0; names[i]; i++) {
        PyObject *s = PyUnicode_InternFromString(names[i]);
        if (s == NULL || PySet_Add(set, s) < 0) return NULL;
        if (out) out[i] = s; /* kept: module lifetime */
        else Py_DECREF(s);
    }
    PyObject *frozen = PyFrozenSet_New(set);
    Py_DECREF(set);
    return frozen;
}

static int fallback(void) {
    PyErr_SetNone(Fallback);
    return -1;
}

/* ---------------------------------------------------------------- strings */

/* `text.strip()`: the same object unless an end is whitespace */
static PyObject *strip(PyObject *s) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (n == 0) return Py_NewRef(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    if (!Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, 0)) &&
        !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, n - 1)))
        return Py_NewRef(s);
    return PyObject_CallMethod(s, "strip", NULL);
}

static int starts(PyObject *s, const char *prefix) {
    Py_ssize_t n = (Py_ssize_t)strlen(prefix);
    if (PyUnicode_GET_LENGTH(s) < n) return 0;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyUnicode_READ(kind, data, i) != (Py_UCS4)(unsigned char)prefix[i]) return 0;
    return 1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* What `_from_digital_link` looks for before it parses: a token naming a GS1 key (or its
   alias) then one beginning with four digits or an alias of a four-digit AI. ASCII only. */
static const char *KEYS[] = {"01", "8006", "8010", "414", "417", "8017", "8018", "255", "00",
                             "253", "401", "402", "8003", "8004", "gtin", "itip", "cpid",
                             "gln", "party", "gsrnp", "gsrn", "gcn", "sscc", "gdti", "ginc",
                             "gsin", "grai", "giai", NULL};
static const char *FOURS[] = {"itip", "cpid", "gsrnp", "gsrn", "grai", "giai", NULL};

static int token_is(const char *s, Py_ssize_t len, const char **words) {
    for (int i = 0; words[i]; i++)
        if ((Py_ssize_t)strlen(words[i]) == len && memcmp(s, words[i], (size_t)len) == 0)
            return 1;
    return 0;
}

static int sep(char c) { return c == '/' || c == '?' || c == '#'; }

/* 1 if `_FOUR_OR_ALIAS` and `_KEY_THEN_DIGITS` could both match (the parse must decide) */
static int maybe_link(const char *s, Py_ssize_t n) {
    int four = 0;
    for (Py_ssize_t i = 0, run = 0; i < n && !four; i++) {
        run = is_digit(s[i]) ? run + 1 : 0;
        four = run >= 4;
    }
    for (int i = 0; FOURS[i] && !four; i++)
        if (strstr(s, FOURS[i]) != NULL) four = 1;
    if (!four) return 0;
    Py_ssize_t start = 0;
    while (start <= n) {
        Py_ssize_t end = start;
        while (end < n && !sep(s[end])) end++;
        if (end < n && token_is(s + start, end - start, KEYS)) {
            Py_ssize_t next = end;
            while (next < n && sep(s[next])) next++;
            if (next + 4 <= n && is_digit(s[next]) && is_digit(s[next + 1]) &&
                is_digit(s[next + 2]) && is_digit(s[next + 3]))
                return 1;
            Py_ssize_t stop = next;
            while (stop < n && !sep(s[stop])) stop++;
            if (next < n && token_is(s + next, stop - next, FOURS)) return 1;
        }
        start = end + 1;
    }
    return 0;
}

/* 1 when `canonical_value(text)` is `text` itself, provably; 0 when Python must decide */
static int canonical_as_is(PyObject *text) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n == 0) return 0;
    if (!PyUnicode_IS_ASCII(text)) {
        Py_UCS4 c = PyUnicode_READ_CHAR(text, 0);
        if (c < 128 && (strchr("+-.0123456789", (int)c) != NULL)) return 0;
        return !(starts(text, "urn:epc") || starts(text, "http://") || starts(text, "https://"));
    }
    const char *s = (const char *)PyUnicode_DATA(text);
    if (memchr(s, 0, (size_t)n) != NULL) return 0; /* (C's string functions stop at NUL) */
    if (strchr("+-.0123456789", s[0]) != NULL) {
        if (s[0] == '0' || n >= 16) return 0;
        for (Py_ssize_t i = 0; i < n; i++)
            if (!is_digit(s[i])) return 0;
        return 1; /* a whole number a double holds, already canonical */
    }
    if (strncmp(s, "urn:epc", 7) == 0) return 0; /* (urn:epc: and urn:epcglobal:cbv:) */
    int http = strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
    if (!http || strchr(s, '.') == NULL) return 1;
    if (strpbrk(s, "\t\r\n") != NULL) return 0;
    return !maybe_link(s, n);
}

static PyObject *canonical_value(PyObject *text) {
    if (canonical_as_is(text)) return Py_NewRef(text);
    return PyObject_CallOneArg(py_value, text);
}

static int two(const char *s, int lo, int hi) {
    int v = (s[0] - '0') * 10 + (s[1] - '0');
    return v >= lo && v <= hi;
}

static const int LAST_DAY[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/* `canonical_time` of a text: `YYYY-MM-DDTHH:MM:SS[.fff]` in UTC (Z or +-00:00), ASCII, a
   real moment, no carry from rounding; every other text goes to Python */
static PyObject *canonical_time(PyObject *text) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (!PyUnicode_IS_ASCII(text) || n < 20) return PyObject_CallOneArg(py_time, text);
    const char *s = (const char *)PyUnicode_DATA(text);
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (int i = 0; i < 19; i++)
        if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
            return PyObject_CallOneArg(py_time, text);
    Py_ssize_t i = 19, frac = 0, frac_len = 0;
    if (s[i] == '.') {
        frac = ++i;
        while (i < n && is_digit(s[i])) i++;
        frac_len = i - frac;
        if (frac_len == 0) return PyObject_CallOneArg(py_time, text);
    }
    int zone = (n - i == 1 && s[i] == 'Z') ||
               (n - i == 6 && (s[i] == '+' || s[i] == '-') && memcmp(s + i + 1, "00:00", 5) == 0);
    int month = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
    int ok = zone && s[0] != '0' && month >= 1 && month <= 12 && day >= 1 &&
             day <= LAST_DAY[month - 1] && two(s + 11, 0, 23) && two(s + 14, 0, 59) &&
             two(s + 17, 0, 59);
    if (ok && month == 2 && day == 29) {
        int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        ok = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    }
    char f[4] = {'0', '0', '0', '0'};
    for (Py_ssize_t j = 0; j < 4 && j < frac_len; j++) f[j] = s[frac + j];
    int up = f[3] >= '5';
    if (!ok || (up && memcmp(f, "999", 3) == 0)) return PyObject_CallOneArg(py_time, text);
    int millis = (f[0] - '0') * 100 + (f[1] - '0') * 10 + (f[2] - '0') + up;
    char out[24];
    memcpy(out, s, 19);
    out[19] = '.';
    out[20] = (char)('0' + millis / 100);
    out[21] = (char)('0' + millis / 10 % 10);
    out[22] = (char)('0' + millis % 10);
    out[23] = 'Z';
    return PyUnicode_FromStringAndSize(out, 24);
}

/* `_text(value)`: text stripped, bools and ints here, the rest in Python */
static PyObject *as_text(PyObject *value) {
    if (PyUnicode_CheckExact(value)) return strip(value);
    if (value == Py_True) return PyUnicode_FromString("true");
    if (value == Py_False) return PyUnicode_FromString("false");
    if (PyLong_CheckExact(value)) {
        PyObject *s = PyObject_Str(value);
        return s; /* (no whitespace in an int's text) */
    }
    return PyObject_CallOneArg(py_text, value);
}

static PyObject *concat(PyObject *a, PyObject *b) { /* steals neither */
    return PyUnicode_Concat(a, b);
}

/* "name=value" */
static PyObject *pair(PyObject *name, PyObject *value) {
    return PyUnicode_FromFormat("%U=%U", name, value);
}

static int in_set(PyObject *set, PyObject *key) { return PySet_Contains(set, key); }

/* `_leaf(name, value)` */
static PyObject *leaf(PyObject *name, PyObject *value) {
    PyObject *text = as_text(value);
    if (text == NULL) return NULL;
    if (PyUnicode_GET_LENGTH(text) == 0) return text;
    int timed = in_set(TIME_KNOWN, name);
    PyObject *canon = timed < 0 ? NULL : timed ? canonical_time(text) : canonical_value(text);
    Py_DECREF(text);
    if (canon == NULL) return NULL;
    PyObject *out = pair(name, canon);
    Py_DECREF(canon);
    return out;
}

/* `_joined(parts)`: sorted and joined; steals `parts` */
static PyObject *joined(PyObject *parts) {
    if (parts == NULL) return NULL;
    PyObject *out;
    Py_ssize_t n = PyList_GET_SIZE(parts);
    if (n == 0) out = Py_NewRef(EMPTY);
    else if (n == 1) out = Py_NewRef(PyList_GET_ITEM(parts, 0));
    else out = PyList_Sort(parts) < 0 ? NULL : PyUnicode_Join(EMPTY, parts);
    Py_DECREF(parts);
    return out;
}

static int append(PyObject *list, PyObject *item) { /* steals item */
    if (item == NULL) return -1;
    int rc = PyList_Append(list, item);
    Py_DECREF(item);
    return rc;
}

/* name + body, or "" when the body is empty; steals body */
static PyObject *named(const char *name_or_null, PyObject *name, PyObject *body) {
    if (body == NULL) return NULL;
    if (PyUnicode_GET_LENGTH(body) == 0) return body;
    PyObject *head = name ? Py_NewRef(name) : PyUnicode_FromString(name_or_null);
    if (head == NULL) {
        Py_DECREF(body);
        return NULL;
    }
    PyObject *out = concat(head, body);
    Py_DECREF(head);
    Py_DECREF(body);
    return out;
}

/* exact containers only: anything else, Python hashes the event */
static int check_dict(PyObject *o) { return PyDict_CheckExact(o) ? 0 : fallback(); }

/* `_many(value)` as a borrowed sequence: the list, or a one-item view */
typedef struct {
    PyObject **items;
    Py_ssize_t n;
    PyObject *one;
} many_t;

static int many(PyObject *value, many_t *m) {
    if (PyList_CheckExact(value)) {
        m->items = PySequence_Fast_ITEMS(value);
        m->n = PyList_GET_SIZE(value);
    } else if (PyList_Check(value)) {
        return fallback();
    } else {
        m->one = value;
        m->items = &m->one;
        m->n = 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- outside the order */

static int generic(PyObject *name, PyObject *value, PyObject *out);

static PyObject *typed(PyObject *entry, PyObject *name) {
    if (!PyDict_Check(entry)) return leaf(name, entry);
    if (check_dict(entry) < 0) return NULL;
    PyObject *kind = PyDict_GetItemWithError(entry, S_type);
    if (kind == NULL && PyErr_Occurred()) return NULL;
    PyObject *value = PyDict_GetItemWithError(entry, name);
    if (value == NULL && PyErr_Occurred()) return NULL;
    PyObject *a = leaf(S_type, kind ? kind : EMPTY);
    if (a == NULL) return NULL;
    PyObject *b = leaf(name, value ? value : EMPTY);
    if (b == NULL) {
        Py_DECREF(a);
        return NULL;
    }
    PyObject *out = concat(a, b);
    Py_DECREF(a);
    Py_DECREF(b);
    return out;
}

/* name=canonical(text), or the name alone when the text is empty; steals text */
static PyObject *own_part(PyObject *name, PyObject *text) {
    if (text == NULL) return NULL;
    if (PyUnicode_GET_LENGTH(text) == 0) {
        Py_DECREF(text);
        return Py_NewRef(name);
    }
    PyObject *canon = canonical_value(text);
    Py_DECREF(text);
    if (canon == NULL) return NULL;
    PyObject *out = pair(name, canon);
    Py_DECREF(canon);
    return out;
}

static int generic(PyObject *name, PyObject *value, PyObject *out) {
    if (PyUnicode_CheckExact(value)) return append(out, own_part(name, strip(value)));
    if (PyList_Check(value)) {
        if (!PyList_CheckExact(value)) return fallback();
        int typed_list = in_set(TYPED_LISTS, name);
        if (typed_list < 0) return -1;
        if (typed_list) {
            PyObject *entry = NULL;
            for (int i = 0; i < 3; i++)
                if (PyUnicode_Compare(name, S_TYPED_KEYS[i]) == 0) entry = S_TYPED_ENTRIES[i];
            PyObject *parts = PyList_New(0);
            if (parts == NULL) return -1;
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++)
                if (append(parts, typed(PyList_GET_ITEM(value, i), entry)) < 0) {
                    Py_DECREF(parts);
                    return -1;
                }
            PyObject *body = joined(parts); /* (the name even when the body is empty) */
            if (body == NULL) return -1;
            PyObject *whole = concat(name, body);
            Py_DECREF(body);
            return append(out, whole);
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++)
            if (generic(name, PyList_GET_ITEM(value, i), out) < 0) return -1;
        return 0;
    }
    if (PyDict_Check(value)) {
        if (check_dict(value) < 0) return -1;
        PyObject *kids = PyList_New(0);
        if (kids == NULL) return -1;
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(value, &pos, &k, &v)) {
            if (!PyUnicode_CheckExact(k)) {
                Py_DECREF(kids);
                return fallback();
            }
            if (PyUnicode_Compare(k, S_text) == 0 || PyUnicode_Compare(k, S_atvalue) == 0)
                continue;
            if (generic(k, v, kids) < 0) {
                Py_DECREF(kids);
                return -1;
            }
        }
        PyObject *inner = PyDict_GetItemWithError(value, S_text);
        if (inner == NULL && !PyErr_Occurred()) inner = PyDict_GetItemWithError(value, S_atvalue);
        if (inner == NULL && PyErr_Occurred()) {
            Py_DECREF(kids);
            return -1;
        }
        PyObject *own = own_part(name, as_text(inner ? inner : EMPTY));
        PyObject *body = joined(kids);
        if (own == NULL || body == NULL) {
            Py_XDECREF(own);
            Py_XDECREF(body);
            return -1;
        }
        PyObject *whole = concat(own, body);
        Py_DECREF(own);
        Py_DECREF(body);
        return append(out, whole);
    }
    return append(out, own_part(name, as_text(value)));
}

/* `_extensions(obj, known)`: namespaced keys not in `known` (NULL: every key, as
   `_extensions_all`) */
static PyObject *extensions(PyObject *obj, PyObject *known) {
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(obj, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k)) {
            Py_DECREF(out);
            fallback();
            return NULL;
        }
        if (known != NULL) {
            int is_known = in_set(known, k);
            if (is_known < 0) goto fail;
            if (is_known || PyUnicode_GET_LENGTH(k) == 0 || PyUnicode_READ_CHAR(k, 0) != '{')
                continue;
        }
        if (generic(k, v, out) < 0) goto fail;
    }
    return joined(out);
fail:
    Py_DECREF(out);
    return NULL;
}

/* `_stray(obj, known)`: a new dict (empty when obj is no dict) */
static PyObject *stray(PyObject *obj, PyObject *known) {
    PyObject *out = PyDict_New();
    if (out == NULL || !PyDict_Check(obj)) return out;
    if (check_dict(obj) < 0) goto fail;
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(obj, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k)) {
            fallback();
            goto fail;
        }
        int is_known = in_set(known, k);
        if (is_known < 0) goto fail;
        if (is_known || (PyUnicode_GET_LENGTH(k) > 0 && PyUnicode_READ_CHAR(k, 0) == '{'))
            continue;
        if (PyDict_SetItem(out, k, v) < 0) goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* name + _extensions_all(dict); steals the dict */
static PyObject *named_all(const char *name, PyObject *dict) {
    if (dict == NULL) return NULL;
    PyObject *body = extensions(dict, NULL);
    Py_DECREF(dict);
    if (body == NULL) return NULL;
    PyObject *head = PyUnicode_FromString(name);
    if (head == NULL) {
        Py_DECREF(body);
        return NULL;
    }
    PyObject *out = concat(head, body);
    Py_DECREF(head);
    Py_DECREF(body);
    return out;
}

static PyObject *get(PyObject *dict, const char *key) {
    PyObject *v = PyDict_GetItemString(dict, key); /* borrowed; keys are text */
    return v;
}

static PyObject *sensor_strays(PyObject *element) {
    if (!PyDict_Check(element)) return Py_NewRef(EMPTY);
    if (check_dict(element) < 0) return NULL;
    PyObject *parts = PyList_New(0);
    if (parts == NULL) return NULL;
    PyObject *own = stray(element, SENSOR_KNOWN);
    if (own == NULL || append(parts, extensions(own, NULL)) < 0) goto fail;
    Py_CLEAR(own);
    const char *names[] = {"sensorMetadata", "sensorReport"};
    PyObject *known[] = {METADATA_KNOWN, REPORT_KNOWN};
    for (int j = 0; j < 2; j++) {
        PyObject *value = get(element, names[j]);
        if (value == NULL) continue; /* (absent: the empty list) */
        many_t m;
        if (many(value, &m) < 0) goto fail;
        for (Py_ssize_t i = 0; i < m.n; i++) {
            PyObject *r = stray(m.items[i], known[j]);
            if (r == NULL) goto fail;
            if (PyDict_GET_SIZE(r) == 0) {
                Py_DECREF(r);
                continue;
            }
            if (append(parts, named_all(names[j], r)) < 0) goto fail;
        }
    }
    return named("sensorElement", NULL, joined(parts));
fail:
    Py_XDECREF(own);
    Py_DECREF(parts);
    return NULL;
}

static int strays(PyObject *event, PyObject *out) {
    PyObject *value = PyDict_GetItemWithError(event, S_sensorElementList);
    if (value == NULL && PyErr_Occurred()) return -1;
    if (value != NULL) {
        many_t m;
        if (many(value, &m) < 0) return -1;
        PyObject *elements = PyList_New(0);
        if (elements == NULL) return -1;
        int any = 0;
        for (Py_ssize_t i = 0; i < m.n; i++) {
            PyObject *s = sensor_strays(m.items[i]);
            if (s == NULL) {
                Py_DECREF(elements);
                return -1;
            }
            any |= PyUnicode_GET_LENGTH(s) > 0;
            if (append(elements, s) < 0) {
                Py_DECREF(elements);
                return -1;
            }
        }
        if (any) {
            if (append(out, named("sensorElementList", NULL, joined(elements))) < 0) return -1;
        } else {
            Py_DECREF(elements);
        }
    }
    for (int q = 0; q < 4; q++) {
        value = PyDict_GetItemWithError(event, QUANTITY_NAMES[q]);
        if (value == NULL) {
            if (PyErr_Occurred()) return -1;
            continue;
        }
        many_t m;
        if (many(value, &m) < 0) return -1;
        PyObject *parts = PyList_New(0);
        if (parts == NULL) return -1;
        for (Py_ssize_t i = 0; i < m.n; i++) {
            PyObject *r = stray(m.items[i], QUANTITY_KNOWN);
            if (r == NULL) {
                Py_DECREF(parts);
                return -1;
            }
            if (PyDict_GET_SIZE(r) == 0) {
                Py_DECREF(r);
                continue;
            }
            if (append(parts, named_all("quantityElement", r)) < 0) {
                Py_DECREF(parts);
                return -1;
            }
        }
        PyObject *body = joined(parts);
        if (body == NULL) return -1;
        if (PyUnicode_GET_LENGTH(body) == 0) {
            Py_DECREF(body);
            continue;
        }
        if (append(out, named(NULL, QUANTITY_NAMES[q], body)) < 0) return -1;
    }
    PyObject *places[] = {S_readPoint, S_bizLocation};
    for (int p = 0; p < 2; p++) {
        value = PyDict_GetItemWithError(event, places[p]);
        if (value == NULL) {
            if (PyErr_Occurred()) return -1;
            continue;
        }
        PyObject *r = stray(value, ID_KNOWN);
        if (r == NULL) return -1;
        if (PyDict_GET_SIZE(r) == 0) {
            Py_DECREF(r);
            continue;
        }
        PyObject *body = extensions(r, NULL);
        Py_DECREF(r);
        if (body == NULL) return -1;
        PyObject *whole = concat(places[p], body); /* (the name even when the body is empty) */
        Py_DECREF(body);
        if (append(out, whole) < 0) return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- in the order */

static PyObject *simple(PyObject *name, PyObject *value) {
    if (PyUnicode_CheckExact(value)) return leaf(name, value);
    if (PyList_Check(value)) {
        if (!PyList_CheckExact(value)) {
            fallback();
            return NULL;
        }
        PyObject *parts = PyList_New(0);
        if (parts == NULL) return NULL;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++)
            if (append(parts, leaf(name, PyList_GET_ITEM(value, i))) < 0) {
                Py_DECREF(parts);
                return NULL;
            }
        return joined(parts);
    }
    return leaf(name, value);
}

/* `_ordered(obj, fields)` */
static PyObject *ordered(PyObject *obj, PyObject **fields, int n) {
    PyObject *parts = PyList_New(0);
    if (parts == NULL) return NULL;
    for (int i = 0; i < n; i++) {
        PyObject *v = PyDict_GetItemWithError(obj, fields[i]);
        if (v == NULL) {
            if (PyErr_Occurred()) goto fail;
            continue;
        }
        if (append(parts, simple(fields[i], v)) < 0) goto fail;
    }
    PyObject *out = PyUnicode_Join(EMPTY, parts);
    Py_DECREF(parts);
    return out;
fail:
    Py_DECREF(parts);
    return NULL;
}

/* ordered fields + extensions, or "" */
static PyObject *part_body(PyObject *obj, PyObject **fields, int n, PyObject *known) {
    PyObject *a = ordered(obj, fields, n);
    if (a == NULL) return NULL;
    PyObject *b = extensions(obj, known);
    if (b == NULL) {
        Py_DECREF(a);
        return NULL;
    }
    PyObject *out = concat(a, b);
    Py_DECREF(a);
    Py_DECREF(b);
    return out;
}

static PyObject *epc_list(PyObject *name, PyObject *value) {
    many_t m;
    if (many(value, &m) < 0) return NULL;
    PyObject *parts = PyList_New(0);
    if (parts == NULL) return NULL;
    for (Py_ssize_t i = 0; i < m.n; i++)
        if (append(parts, leaf(S_epc, m.items[i])) < 0) {
            Py_DECREF(parts);
            return NULL;
        }
    return named(NULL, name, joined(parts));
}

static PyObject *quantity(PyObject *element) {
    PyObject *body = ordered(element, QUANTITY_FIELD_NAMES, 3);
    if (body == NULL) return NULL;
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    int extra = 0;
    while (PyDict_Next(element, &pos, &k, &v)) {
        int is_known = in_set(QUANTITY_KNOWN, k);
        if (is_known < 0) {
            Py_DECREF(body);
            return NULL;
        }
        extra |= !is_known;
    }
    if (extra) {
        PyObject *ext = extensions(element, QUANTITY_KNOWN);
        if (ext == NULL) {
            Py_DECREF(body);
            return NULL;
        }
        PyObject *both = concat(body, ext);
        Py_DECREF(body);
        Py_DECREF(ext);
        body = both;
    }
    return named(NULL, S_quantityElement, body);
}

/* the dicts of a list (anything else in it skipped), each rendered by `one`, under `name` */
static PyObject *dict_list(PyObject *name, PyObject *value, PyObject *(*one)(PyObject *)) {
    many_t m;
    if (many(value, &m) < 0) return NULL;
    PyObject *parts = PyList_New(0);
    if (parts == NULL) return NULL;
    for (Py_ssize_t i = 0; i < m.n; i++) {
        PyObject *d = m.items[i];
        if (!PyDict_Check(d)) continue;
        if (check_dict(d) < 0 || append(parts, one(d)) < 0) {
            Py_DECREF(parts);
            return NULL;
        }
    }
    return named(NULL, name, joined(parts));
}

static PyObject *quantity_list(PyObject *name, PyObject *value) {
    return dict_list(name, value, quantity);
}

static PyObject *persistent(PyObject *name, PyObject *value) {
    if (!PyDict_Check(value)) return Py_NewRef(EMPTY);
    if (check_dict(value) < 0) return NULL;
    return named(NULL, name, ordered(value, PERSISTENT_NAMES, 2));
}

static PyObject *location(PyObject *name, PyObject *value) {
    if (!PyDict_Check(value)) return leaf(name, value);
    if (check_dict(value) < 0) return NULL;
    return named(NULL, name, part_body(value, ID_NAMES, 1, ID_KNOWN));
}

static PyObject *sensor_part(PyObject *name, PyObject *part, PyObject **fields, int n,
                             PyObject *known) {
    if (!PyDict_Check(part)) return Py_NewRef(EMPTY);
    if (check_dict(part) < 0) return NULL;
    return named(NULL, name, part_body(part, fields, n, known));
}

static PyObject *sensor_parts(PyObject *element, PyObject *name, PyObject **fields, int n,
                              PyObject *known) {
    PyObject *value = PyDict_GetItemWithError(element, name);
    if (value == NULL) return PyErr_Occurred() ? NULL : Py_NewRef(EMPTY);
    many_t m;
    if (many(value, &m) < 0) return NULL;
    PyObject *parts = PyList_New(0);
    if (parts == NULL) return NULL;
    for (Py_ssize_t i = 0; i < m.n; i++)
        if (append(parts, sensor_part(name, m.items[i], fields, n, known)) < 0) {
            Py_DECREF(parts);
            return NULL;
        }
    return joined(parts);
}

static PyObject *sensor_element(PyObject *element) {
    PyObject *meta = NULL, *reports = NULL, *ext = NULL, *body = NULL;
    meta = sensor_parts(element, S_sensorMetadata, METADATA_NAMES, 8, METADATA_KNOWN);
    if (meta == NULL) goto done;
    reports = sensor_parts(element, S_sensorReport, REPORT_NAMES, 23, REPORT_KNOWN);
    if (reports == NULL) goto done;
    ext = extensions(element, SENSOR_KNOWN);
    if (ext == NULL) goto done;
    PyObject *parts = PyTuple_Pack(3, meta, reports, ext);
    if (parts == NULL) goto done;
    body = PyUnicode_Join(EMPTY, parts);
    Py_DECREF(parts);
done:
    Py_XDECREF(meta);
    Py_XDECREF(reports);
    Py_XDECREF(ext);
    return body == NULL ? NULL : named("sensorElement", NULL, body);
}

static PyObject *sensor_list(PyObject *name, PyObject *value) {
    return dict_list(name, value, sensor_element);
}

static PyObject *render(int i, PyObject *value) {
    PyObject *name = ORDER_NAMES[i];
    switch (ORDER[i].how) {
    case SIMPLE: return simple(name, value);
    case EPC_LIST: return epc_list(name, value);
    case QUANTITY_LIST: return quantity_list(name, value);
    case PERSISTENT: return persistent(name, value);
    case LOCATION: return location(name, value);
    case SENSOR_LIST: return sensor_list(name, value);
    }
    return NULL;
}

static PyObject *build(PyObject *event) {
    PyObject *parts = PyList_New(0), *unordered = NULL;
    if (parts == NULL) return NULL;
    PyObject *kind = PyDict_GetItemWithError(event, S_type);
    if (kind == NULL && PyErr_Occurred()) goto fail;
    PyObject *text = as_text(kind ? kind : EMPTY);
    if (text == NULL) goto fail;
    PyObject *head = concat(S_eventType_eq, text);
    Py_DECREF(text);
    if (append(parts, head) < 0) goto fail;
    for (int i = 0; i < N_ORDER; i++) {
        PyObject *v = PyDict_GetItemWithError(event, ORDER_NAMES[i]);
        if (v == NULL) {
            if (PyErr_Occurred()) goto fail;
            continue;
        }
        if (append(parts, render(i, v)) < 0) goto fail;
    }
    unordered = PyList_New(0);
    if (unordered == NULL) goto fail;
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(event, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k)) {
            fallback();
            goto fail;
        }
        int skip = in_set(SKIP, k);
        if (skip < 0) goto fail;
        if (!skip && generic(k, v, unordered) < 0) goto fail;
    }
    if (strays(event, unordered) < 0) goto fail;
    PyObject *rest = joined(unordered);
    unordered = NULL;
    if (append(parts, rest) < 0) goto fail;
    PyObject *out = PyUnicode_Join(EMPTY, parts);
    Py_DECREF(parts);
    return out;
fail:
    Py_XDECREF(unordered);
    Py_DECREF(parts);
    return NULL;
}

static PyObject *prehash(PyObject *self, PyObject *event) {
    if (py_value == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "keruen.epcis._bridge is not configured");
        return NULL;
    }
    if (!PyDict_CheckExact(event)) Py_RETURN_NONE;
    PyObject *out = build(event);
    if (out == NULL && PyErr_ExceptionMatches(Fallback)) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return out;
}

static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *value, *time, *text;
    if (!PyArg_ParseTuple(args, "OOO", &value, &time, &text)) return NULL;
    Py_XSETREF(py_value, Py_NewRef(value));
    Py_XSETREF(py_time, Py_NewRef(time));
    Py_XSETREF(py_text, Py_NewRef(text));
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- mapping.plain */

static PyObject *py_plain = NULL; /* mapping.plain: the reference, for the odd values */

/* `plain(value)`: scalars as canonical text, copy on write (see keruen.epcis.mapping) */
static PyObject *plain(PyObject *value) {
    if (PyUnicode_CheckExact(value)) return Py_NewRef(value);
    if (PyDict_CheckExact(value)) {
        PyObject *out = NULL, *k, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(value, &pos, &k, &v)) {
            if (PyUnicode_CheckExact(v)) continue;
            PyObject *p = plain(v);
            if (p == NULL) goto fail_dict;
            if (p != v && ((out == NULL && (out = PyDict_Copy(value)) == NULL) ||
                           PyDict_SetItem(out, k, p) < 0)) {
                Py_DECREF(p);
                goto fail_dict;
            }
            Py_DECREF(p);
        }
        return out != NULL ? out : Py_NewRef(value);
    fail_dict:
        Py_XDECREF(out);
        return NULL;
    }
    if (PyList_CheckExact(value)) {
        PyObject *out = NULL;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
            PyObject *v = PyList_GET_ITEM(value, i);
            if (PyUnicode_CheckExact(v)) continue;
            PyObject *p = plain(v);
            if (p == NULL) goto fail_list;
            if (p == v) {
                Py_DECREF(p);
                continue;
            }
            if (out == NULL && (out = PyList_GetSlice(value, 0, PyList_GET_SIZE(value))) == NULL) {
                Py_DECREF(p);
                goto fail_list;
            }
            PyList_SetItem(out, i, p); /* (steals p) */
        }
        return out != NULL ? out : Py_NewRef(value);
    fail_list:
        Py_XDECREF(out);
        return NULL;
    }
    if (value == Py_True) return PyUnicode_FromString("true");
    if (value == Py_False) return PyUnicode_FromString("false");
    if (PyLong_CheckExact(value)) { /* a whole number a double holds: its digits */
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (!overflow && x > -(1LL << 53) && x < (1LL << 53)) {
            PyObject *text = PyObject_Str(value);
            if (text == NULL) return NULL;
            PyObject *out = canonical_value(text);
            Py_DECREF(text);
            return out;
        }
        PyErr_Clear();
    }
    return PyObject_CallOneArg(py_plain, value);
}

static PyObject *plain_entry(PyObject *self, PyObject *value) {
    if (py_plain == NULL || py_value == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "keruen.epcis._bridge is not configured");
        return NULL;
    }
    return plain(value);
}

/* ---------------------------------------------------------------- document._json_event */

static PyObject *py_json_value = NULL; /* document._json_value: the reference, for odd values */
static PyObject *COMMENTS = NULL;      /* document._COMMENTS */
static PyObject *S_context = NULL;

typedef struct {
    PyObject *keys, *values, *names; /* the _Names memos of keys and values, and the _Names */
} names_t;

static PyObject *memo(PyObject *memo, PyObject *key) {
    PyObject *v = PyDict_GetItemWithError(memo, key);
    if (v != NULL) return Py_NewRef(v);
    if (PyErr_Occurred()) return NULL;
    return PyObject_GetItem(memo, key); /* (the memo's __missing__ works it out) */
}

static int colon(PyObject *s) {
    Py_ssize_t at = PyUnicode_FindChar(s, ':', 0, PyUnicode_GET_LENGTH(s), 1);
    return at == -2 ? -1 : at >= 0;
}

static PyObject *text_value(PyObject *v, names_t *n) {
    int c = colon(v);
    return c < 0 ? NULL : c ? memo(n->values, v) : Py_NewRef(v);
}

static PyObject *json_dict(PyObject *value, names_t *n);
static PyObject *json_list(PyObject *value, names_t *n);

static PyObject *json_value(PyObject *value, names_t *n) {
    if (PyUnicode_CheckExact(value)) return text_value(value, n);
    if (PyDict_CheckExact(value)) return json_dict(value, n);
    if (PyList_CheckExact(value)) return json_list(value, n);
    if (PyLong_CheckExact(value) || PyFloat_CheckExact(value) || PyBool_Check(value) ||
        value == Py_None)
        return Py_NewRef(value);
    return PyObject_CallFunctionObjArgs(py_json_value, value, n->names, NULL);
}

static PyObject *json_dict(PyObject *value, names_t *n) {
    PyObject *out = PyDict_New(), *k, *v;
    if (out == NULL) return NULL;
    Py_ssize_t pos = 0;
    while (PyDict_Next(value, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k)) {
            fallback();
            goto fail;
        }
        int skip = PySet_Contains(COMMENTS, k);
        if (skip < 0) goto fail;
        if (skip) continue;
        int c = colon(k);
        PyObject *key = c < 0 ? NULL : c ? memo(n->keys, k) : Py_NewRef(k);
        if (key == NULL) goto fail;
        PyObject *item = PyUnicode_CheckExact(v) ? text_value(v, n)
                         : PyDict_CheckExact(v)  ? json_dict(v, n)
                                                 : json_value(v, n);
        int rc = item == NULL ? -1 : PyDict_SetItem(out, key, item);
        Py_DECREF(key);
        Py_XDECREF(item);
        if (rc < 0) goto fail;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static PyObject *json_list(PyObject *value, names_t *n) {
    Py_ssize_t size = PyList_GET_SIZE(value);
    PyObject *out = PyList_New(size);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *v = PyList_GET_ITEM(value, i);
        PyObject *item = PyUnicode_CheckExact(v) ? text_value(v, n)
                         : PyDict_CheckExact(v)  ? json_dict(v, n)
                                                 : json_value(v, n);
        if (item == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, item);
    }
    return out;
}

/* `_json_event(raw, names, ignore)` before its vocabulary fields, or None: Python reads it */
static PyObject *read_event(PyObject *self, PyObject *args) {
    PyObject *raw, *ignore;
    names_t n;
    if (!PyArg_ParseTuple(args, "OOOOO", &raw, &n.keys, &n.values, &n.names, &ignore))
        return NULL;
    if (py_json_value == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "keruen.epcis._bridge is not configured");
        return NULL;
    }
    if (!PyDict_CheckExact(raw) || !PyDict_Check(n.keys) || !PyDict_Check(n.values))
        Py_RETURN_NONE;
    int own = PyDict_Contains(raw, S_context);
    if (own < 0) return NULL;
    if (own) Py_RETURN_NONE; /* (an event with its own prefixes) */
    PyObject *event = PyDict_New(), *key, *value;
    if (event == NULL) return NULL;
    Py_ssize_t pos = 0;
    while (PyDict_Next(raw, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) {
            fallback();
            goto fail;
        }
        PyObject *name = memo(n.keys, key);
        if (name == NULL) goto fail;
        int skip = PySet_Contains(COMMENTS, key);
        if (skip == 0) skip = PySet_Contains(COMMENTS, name);
        if (skip == 0) skip = PySequence_Contains(ignore, name);
        if (skip < 0) {
            Py_DECREF(name);
            goto fail;
        }
        if (skip) {
            Py_DECREF(name);
            continue;
        }
        PyObject *item = json_value(value, &n);
        int rc = item == NULL ? -1 : PyDict_SetItem(event, name, item);
        Py_DECREF(name);
        Py_XDECREF(item);
        if (rc < 0) goto fail;
    }
    return event;
fail:
    Py_DECREF(event);
    if (PyErr_ExceptionMatches(Fallback)) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return NULL;
}

static PyObject *configure_plain(PyObject *self, PyObject *fn) {
    Py_XSETREF(py_plain, Py_NewRef(fn));
    Py_RETURN_NONE;
}

static PyObject *configure_read(PyObject *self, PyObject *args) {
    PyObject *fn, *comments;
    if (!PyArg_ParseTuple(args, "OO", &fn, &comments)) return NULL;
    PyObject *frozen = PyFrozenSet_New(comments);
    if (frozen == NULL) return NULL;
    Py_XSETREF(py_json_value, Py_NewRef(fn));
    Py_XSETREF(COMMENTS, frozen);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(canonical_value, canonical_time, text): the Python functions for odd leaves"},
    {"prehash", prehash, METH_O,
     "prehash(event): the CBV 2.0 pre-hash string, or None (Python must hash this event)"},
    {"configure_plain", configure_plain, METH_O, "configure_plain(plain): mapping.plain"},
    {"plain", plain_entry, METH_O, "plain(value): mapping.plain's answer"},
    {"configure_read", configure_read, METH_VARARGS,
     "configure_read(json_value, comments): document._json_value and _COMMENTS"},
    {"read_event", read_event, METH_VARARGS,
     "read_event(raw, keys, values, names, ignore): document._json_event before the "
     "vocabulary fields, or None (Python reads this event)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_bridge", NULL, -1, methods, NULL, NULL, NULL, NULL};

#define INTERN(var, text)                                        \
    if ((var = PyUnicode_InternFromString(text)) == NULL) return NULL

PyMODINIT_FUNC PyInit__bridge(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Fallback = PyErr_NewException("keruen.epcis._bridge.Fallback", NULL, NULL);
    if (Fallback == NULL) return NULL;
    INTERN(EMPTY, "");
    INTERN(S_type, "type");
    INTERN(S_text, "#text");
    INTERN(S_atvalue, "@value");
    INTERN(S_epc, "epc");
    INTERN(S_id, "id");
    INTERN(S_set, "set");
    INTERN(S_unset, "unset");
    INTERN(S_sensorMetadata, "sensorMetadata");
    INTERN(S_sensorReport, "sensorReport");
    INTERN(S_sensorElementList, "sensorElementList");
    INTERN(S_readPoint, "readPoint");
    INTERN(S_bizLocation, "bizLocation");
    INTERN(S_quantityElement, "quantityElement");
    INTERN(S_sensorElement, "sensorElement");
    INTERN(S_eventType_eq, "eventType=");
    INTERN(S_context, "@context");
    INTERN(S_TYPED_KEYS[0], "bizTransactionList");
    INTERN(S_TYPED_KEYS[1], "sourceList");
    INTERN(S_TYPED_KEYS[2], "destinationList");
    INTERN(S_TYPED_ENTRIES[0], "bizTransaction");
    INTERN(S_TYPED_ENTRIES[1], "source");
    INTERN(S_TYPED_ENTRIES[2], "destination");
    const char *skip[N_ORDER + 5];
    for (int i = 0; i < N_ORDER; i++) {
        INTERN(ORDER_NAMES[i], ORDER[i].name);
        skip[i] = ORDER[i].name;
    }
    for (int i = 0; i < 5; i++) skip[N_ORDER + i] = IGNORED[i];
    const char *typed_lists[] = {"bizTransactionList", "sourceList", "destinationList", NULL};
    if ((SKIP = name_set(skip, NULL)) == NULL ||
        (QUANTITY_KNOWN = name_set(QUANTITY_FIELDS, QUANTITY_FIELD_NAMES)) == NULL ||
        (METADATA_KNOWN = name_set(METADATA_FIELDS, METADATA_NAMES)) == NULL ||
        (REPORT_KNOWN = name_set(REPORT_FIELDS, REPORT_NAMES)) == NULL ||
        (ID_KNOWN = name_set(ID_FIELDS, ID_NAMES)) == NULL ||
        (SENSOR_KNOWN = name_set(SENSOR_ELEMENT_FIELDS, NULL)) == NULL ||
        (TIME_KNOWN = name_set(TIME_FIELDS, NULL)) == NULL ||
        (TYPED_LISTS = name_set(typed_lists, NULL)) == NULL ||
        name_set(PERSISTENT_FIELDS, PERSISTENT_NAMES) == NULL ||
        name_set(QUANTITY_LISTS, QUANTITY_NAMES) == NULL)
        return NULL;
    return m;
}
