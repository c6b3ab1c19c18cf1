/* The ingest's native judge: the fast path of keruen.store.judge (issue 19).

   `run` admits the events of a chunk in order, for the common accepted cases only (import,
   arrival, transfer, dispatch, export, write_off, transform), exactly as keruen.ledger.overlay
   and keruen.ledger.rules would: the same checks, the same overlay updates (known, batches,
   balances, touched, held_keys) and the same rows and chain hash as keruen.store.ledger
   (add_rows).
   At the first event it does not handle -- any that would be rejected, a duplicate, an id
   conflict, a cancel, an adjust, another type, anything in doubt -- it returns that event's
   index BEFORE changing any state, and the Python judge takes it (so every rejection and its
   reason stay Python's). Quantities stay decimal.Decimal: the number protocol is called.
   The Python rules are the specification; this file only repeats their accepting branches. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

/* --- SHA-256 of exactly 64 bytes (the chain: prev hash + digest) ------------------------ */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;
    int i;
    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; k = h[7];
    for (i = 0; i < 64; i++) {
        t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

static void sha256_64(const uint8_t in[64], uint8_t out[32]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint8_t pad[64] = {0x80};
    int i;
    pad[62] = 0x02; /* the message length: 512 bits, big-endian */
    sha256_block(h, in);
    sha256_block(h, pad);
    for (i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

/* hex digit values, -1 for anything else (bytes.fromhex reads either case) */
static int8_t HEX[256];

static void hex_table(void) {
    int i;
    memset(HEX, -1, sizeof HEX);
    for (i = 0; i < 10; i++)
        HEX['0' + i] = (int8_t)i;
    for (i = 0; i < 6; i++)
        HEX['a' + i] = HEX['A' + i] = (int8_t)(10 + i);
}

/* 64 hex digits into 32 bytes; 0 if the text is not exactly that */
static int unhex64(PyObject *s, uint8_t *out) {
    const uint8_t *c;
    int i, bad = 0;
    if (!PyUnicode_Check(s) || !PyUnicode_IS_COMPACT_ASCII(s) || PyUnicode_GET_LENGTH(s) != 64)
        return 0;
    c = (const uint8_t *)PyUnicode_DATA(s);
    for (i = 0; i < 32; i++) {
        int8_t hi = HEX[c[2 * i]], lo = HEX[c[2 * i + 1]];
        bad |= hi | lo; /* negative if either is not a digit */
        out[i] = (uint8_t)((hi & 15) << 4 | (lo & 15)); /* no shift of a negative (UB) */
    }
    return bad >= 0;
}

/* --- configuration, set once by keruen.store.judge ------------------------------------- */

enum { K_CREATE = 1, K_TRANSFER = 2, K_TAKE = 3, K_TRANSFORM = 4 };
#define BATCH_FIELDS 7
#define KNOWN_FIELDS 3

static PyObject *parsed_type, *batch_type, *known_type, *count_units, *zero, *chain_hash,
    *kinds;
static PyMemberDef *batch_members[BATCH_FIELDS], *known_members[KNOWN_FIELDS];
static PyObject *s_event, *s_canonical, *s_digest, *s_id, *s_time, *s_batch, *s_holder,
    *s_from, *s_to, *s_quantity, *s_goods, *s_hs, *s_unit, *s_description, *s_origin,
    *s_inputs, *s_outputs, *s_to_integral_value, *s_utcoffset, *s_batches, *s_balances,
    *s_known, *s_touched, *s_held_keys, *s_not_after_us, *s_events, *s_moves, *s_links,
    *s_after, *s_transfer, *s_transform_in, *s_transform_out;

/* the slots `names` of cls (its own or inherited: their offsets hold in its instances) */
static int members_of(PyObject *cls, const char **names, PyMemberDef **out, int n) {
    int i;
    for (i = 0; i < n; i++) {
        PyObject *d = PyObject_GetAttrString(cls, names[i]);
        if (d == NULL)
            return -1;
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type) ||
            !PyType_IsSubtype((PyTypeObject *)cls, PyDescr_TYPE(d)) ||
            ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
            Py_DECREF(d);
            PyErr_Format(PyExc_TypeError, "%s is not a slot of %R", names[i], cls);
            return -1;
        }
        out[i] = ((PyMemberDescrObject *)d)->d_member;
        Py_DECREF(d); /* the class keeps the descriptor alive */
    }
    return 0;
}

static PyObject *configure(PyObject *self, PyObject *args) {
    static const char *bnames[BATCH_FIELDS] = {"batch",  "hs",         "unit",    "description",
                                               "origin", "created_us", "event_id"};
    static const char *knames[KNOWN_FIELDS] = {"digest", "canonical", "typed"};
    PyMemberDef *bm[BATCH_FIELDS], *km[KNOWN_FIELDS];
    PyObject *p, *b, *k, *cu, *z, *ch, *ki, *key, *kind;
    Py_ssize_t pos = 0;
    /* everything checked before anything is kept: a refused call leaves the judge as it was */
    if (!PyArg_ParseTuple(args, "O!O!O!O!OOO!", &PyType_Type, &p, &PyType_Type, &b,
                          &PyType_Type, &k, &PyFrozenSet_Type, &cu, &z, &ch, &PyDict_Type, &ki))
        return NULL;
    while (PyDict_Next(ki, &pos, &key, &kind))
        if (!PyType_Check(key) || !PyTuple_CheckExact(kind) || PyTuple_GET_SIZE(kind) != 3 ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(kind, 0)) ||
            !PyUnicode_CheckExact(PyTuple_GET_ITEM(kind, 1)))
            return PyErr_Format(PyExc_TypeError, "kinds: %R is not type: (int, str, bool)", key);
    if (members_of(b, bnames, bm, BATCH_FIELDS) < 0 ||
        members_of(k, knames, km, KNOWN_FIELDS) < 0)
        return NULL;
    memcpy(batch_members, bm, sizeof bm);
    memcpy(known_members, km, sizeof km);
    Py_INCREF(p); Py_XSETREF(parsed_type, p);
    Py_INCREF(b); Py_XSETREF(batch_type, b);
    Py_INCREF(k); Py_XSETREF(known_type, k);
    Py_INCREF(cu); Py_XSETREF(count_units, cu);
    Py_INCREF(z); Py_XSETREF(zero, z);
    Py_INCREF(ch); Py_XSETREF(chain_hash, ch);
    Py_INCREF(ki); Py_XSETREF(kinds, ki);
    Py_RETURN_NONE;
}

/* an instance of a slots dataclass with its fields set, as its __init__ would (no checks) */
static PyObject *slots_new(PyObject *type, PyMemberDef **members, PyObject **values, int n) {
    PyTypeObject *tp = (PyTypeObject *)type;
    PyObject *obj = tp->tp_alloc(tp, 0);
    int i;
    if (obj == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        if (PyMember_SetOne((char *)obj, members[i], values[i]) < 0) {
            Py_DECREF(obj);
            return NULL;
        }
    }
    return obj;
}

/* --- helpers ------------------------------------------------------------------------------ */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* keruen.clock.micros: 1 and *us set, 0 when in doubt (no error left set) */
static int micros(PyObject *t, int64_t *us) {
    PyObject *tz;
    int64_t off = 0;
    if (!PyDateTime_Check(t))
        return 0;
    tz = PyDateTime_DATE_GET_TZINFO(t);
    if (tz != Py_None && tz != PyDateTime_TimeZone_UTC) {
        PyObject *delta = PyObject_CallMethodNoArgs(t, s_utcoffset);
        if (delta == NULL) {
            PyErr_Clear();
            return 0;
        }
        if (!PyDelta_Check(delta)) { /* None: a naive time for arithmetic; Python raises */
            Py_DECREF(delta);
            return 0;
        }
        off = ((int64_t)PyDateTime_DELTA_GET_DAYS(delta) * 86400 +
               PyDateTime_DELTA_GET_SECONDS(delta)) * 1000000 +
              PyDateTime_DELTA_GET_MICROSECONDS(delta);
        Py_DECREF(delta);
    }
    int64_t days = days_from_civil(PyDateTime_GET_YEAR(t), PyDateTime_GET_MONTH(t),
                                   PyDateTime_GET_DAY(t));
    int64_t secs = days * 86400 + PyDateTime_DATE_GET_HOUR(t) * 3600 +
                   PyDateTime_DATE_GET_MINUTE(t) * 60 + PyDateTime_DATE_GET_SECOND(t);
    *us = secs * 1000000 + PyDateTime_DATE_GET_MICROSECOND(t) - off;
    return 1;
}

static int as_i64(PyObject *o, int64_t *v) {
    int overflow = 0;
    if (!PyLong_CheckExact(o))
        return 0;
    *v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || (*v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* A batch that may move now (`rules._existing` and `_whole` passing): its Batch, borrowed from
   the overlay; NULL when the Python rules would refuse or might. */
static PyObject *movable(PyObject *batches, PyObject *batch, int64_t time_us, PyObject *q) {
    PyObject *info = PyDict_GetItemWithError(batches, batch);
    int64_t created;
    if (info == NULL || !Py_IS_TYPE(info, (PyTypeObject *)batch_type)) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *created_o = PyMember_GetOne((char *)info, batch_members[5]);
    if (created_o == NULL) {
        PyErr_Clear();
        return NULL;
    }
    int ok = as_i64(created_o, &created);
    Py_DECREF(created_o);
    if (!ok || time_us < created)
        return NULL;
    PyObject *unit = PyMember_GetOne((char *)info, batch_members[2]);
    if (unit == NULL) {
        PyErr_Clear();
        return NULL;
    }
    int counted = PySet_Contains(count_units, unit);
    Py_DECREF(unit);
    if (counted < 0) {
        PyErr_Clear();
        return NULL;
    }
    if (counted) {
        PyObject *whole = PyObject_CallMethodNoArgs(q, s_to_integral_value);
        int differs = whole ? PyObject_RichCompareBool(q, whole, Py_NE) : -1;
        Py_XDECREF(whole);
        if (differs != 0) {
            PyErr_Clear();
            return NULL;
        }
    }
    return info;
}

/* `rules._take`: the holder holds at least q of a batch that may move now */
static int may_take(PyObject *ov_batches, PyObject *balances, PyObject *batch, PyObject *holder,
                    int64_t time_us, PyObject *q) {
    if (movable(ov_batches, batch, time_us, q) == NULL)
        return 0;
    PyObject *key = PyTuple_Pack(2, holder, batch);
    if (key == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *held = PyDict_GetItemWithError(balances, key);
    Py_DECREF(key);
    if (held == NULL) {
        if (PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        held = zero;
    }
    int less = PyObject_RichCompareBool(held, q, Py_LT);
    if (less != 0) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* `rules._new_batch`: no batch of that number is known (absent, or known to be absent) */
static int is_new(PyObject *batches, PyObject *batch) {
    PyObject *info = PyDict_GetItemWithError(batches, batch);
    if (info == NULL && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return info == NULL || info == Py_None;
}

static int str_field(PyObject *o, PyObject *name, PyObject **out) {
    *out = PyObject_GetAttr(o, name);
    if (*out == NULL) {
        PyErr_Clear();
        return 0;
    }
    if (!PyUnicode_CheckExact(*out)) {
        Py_CLEAR(*out);
        return 0;
    }
    return 1;
}

/* --- one event ------------------------------------------------------------------------- */

typedef struct {
    PyObject *batches, *balances, *known, *touched, *held;
    PyObject *ev_rows, *move_rows, *batch_rows, *link_rows, *ids;
    PyObject *now;
    int has_limit;
    int64_t not_after;
    int64_t seq;
    uint8_t prev[32];
    PyObject *prev_s; /* the head's hash as text (owned) */
} Run;

/* a move: (batch, source, target, quantity, kind); borrowed parts */
typedef struct {
    PyObject *batch, *source, *target, *q, *kind;
} Move;

/* a transform's inputs and outputs handled here, each side; more go to Python. An event
   owns at most 12 + 2 * inputs + 9 * outputs references while it is judged. */
#define MAX_SIDE 8
#define MAX_PARTS (2 * MAX_SIDE)

static int add_balance(Run *r, PyObject *holder, PyObject *batch, PyObject *q, int sign) {
    PyObject *key = PyTuple_Pack(2, holder, batch), *now, *next;
    if (key == NULL)
        return -1;
    now = PyDict_GetItemWithError(r->balances, key);
    if (now == NULL) {
        if (PyErr_Occurred())
            goto fail;
        now = zero;
    }
    next = sign > 0 ? PyNumber_Add(now, q) : PyNumber_Subtract(now, q);
    if (next == NULL || PyDict_SetItem(r->balances, key, next) < 0) {
        Py_XDECREF(next);
        goto fail;
    }
    /* the chunk's changed balances, each with its value now: `finish` reads them from this
       small dict, not from the carried one (up to a million entries, a cache miss each) */
    if (PyDict_SetItem(r->touched, key, next) < 0) {
        Py_DECREF(next);
        goto fail;
    }
    Py_DECREF(next);
    if (sign > 0) {
        int positive = PyObject_RichCompareBool(q, zero, Py_GT);
        if (positive < 0 || (positive && PySet_Add(r->held, key) < 0))
            goto fail;
    }
    Py_DECREF(key);
    return 0;
fail:
    Py_DECREF(key);
    return -1;
}

static PyObject *hex_of(const uint8_t *h) {
    static const char digits[] = "0123456789abcdef";
    char out[64];
    int i;
    for (i = 0; i < 32; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    return PyUnicode_FromStringAndSize(out, 64);
}

/* the chain hash of the next event; a new reference, NULL with an error set */
static PyObject *next_hash(Run *r, PyObject *digest, uint8_t *raw) {
    uint8_t in[64];
    if (unhex64(r->prev_s, in) && unhex64(digest, in + 32)) {
        sha256_64(in, raw);
        return hex_of(raw);
    }
    /* not plain hex: Python's chain_hash says what it is (it raises what add_rows raises) */
    PyObject *h = PyObject_CallFunctionObjArgs(chain_hash, r->prev_s, digest, NULL);
    if (h != NULL && !unhex64(h, raw)) {
        Py_DECREF(h);
        PyErr_SetString(PyExc_ValueError, "chain_hash gave no hex digest");
        return NULL;
    }
    return h;
}

/* Admit one Parsed: 1 done (state and rows updated), 0 not handled (nothing changed),
   -1 error (raised: memory, or a bug; the chunk fails as it would in Python). */
static int admit(Run *r, PyObject *parsed) {
    PyObject *event = NULL, *canonical = NULL, *digest = NULL, *id = NULL, *time = NULL;
    PyObject *kind_t, *tag, *holder = NULL, *text = NULL, *key = NULL, *h = NULL;
    PyObject *inputs = NULL, *outputs = NULL, *new_batches[MAX_PARTS], *row = NULL;
    PyObject *owned[16 + 11 * MAX_SIDE]; /* what is read or made below, released at the end */
    Move moves[MAX_PARTS];
    int n_owned = 0, n_moves = 0, n_new = 0, n_in = 0, n_out = 0, result = 0, i, j, kind;
    int64_t time_us;
    uint8_t raw[32];

#define OWN(x) (owned[n_owned++] = (x))
#define GET(o, name, out)                                   \
    do {                                                   \
        (out) = PyObject_GetAttr((o), (name));             \
        if ((out) == NULL) { PyErr_Clear(); goto done; }   \
        OWN(out);                                          \
    } while (0)
#define STR(o, name, out)                                  \
    do {                                                   \
        if (!str_field((o), (name), &(out))) goto done;    \
        OWN(out);                                          \
    } while (0)

    GET(parsed, s_event, event);
    GET(parsed, s_canonical, canonical);
    GET(parsed, s_digest, digest);
    if (!PyBytes_CheckExact(canonical) || !PyUnicode_CheckExact(digest))
        goto done;
    kind_t = PyDict_GetItemWithError(kinds, (PyObject *)Py_TYPE(event));
    if (kind_t == NULL) {
        PyErr_Clear();
        goto done;
    }
    kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(kind_t, 0));
    tag = PyTuple_GET_ITEM(kind_t, 1);
    STR(event, s_id, id);
    /* Overlay.admit: an id seen before (a duplicate or a conflict) is Python's */
    if (PyDict_GetItemWithError(r->known, id) != NULL || PyErr_Occurred()) {
        PyErr_Clear();
        goto done;
    }
    GET(event, s_time, time);
    if (!micros(time, &time_us))
        goto done;
    if (r->has_limit && time_us > r->not_after)
        goto done;

    /* rules.apply and stock_moves: check everything first, change nothing yet */
    if (kind == K_CREATE) {
        PyObject *batch, *q, *goods, *b[BATCH_FIELDS];
        STR(event, s_batch, batch);
        STR(event, s_holder, holder);
        GET(event, s_quantity, q);
        GET(event, s_goods, goods);
        if (!is_new(r->batches, batch))
            goto done;
        b[0] = batch;
        GET(goods, s_hs, b[1]);
        GET(goods, s_unit, b[2]);
        GET(goods, s_description, b[3]);
        GET(goods, s_origin, b[4]);
        b[5] = PyLong_FromLongLong(time_us);
        if (b[5] == NULL) { result = -1; goto done; }
        OWN(b[5]);
        b[6] = id;
        new_batches[n_new] = slots_new(batch_type, batch_members, b, BATCH_FIELDS);
        if (new_batches[n_new] == NULL) { result = -1; goto done; }
        OWN(new_batches[n_new]);
        n_new++;
        moves[n_moves++] = (Move){batch, Py_None, holder, q, tag};
        key = batch;
    } else if (kind == K_TRANSFER || kind == K_TAKE) {
        PyObject *batch, *q, *to = Py_None;
        STR(event, s_batch, batch);
        STR(event, kind == K_TRANSFER ? s_from : s_holder, holder);
        if (kind == K_TRANSFER)
            STR(event, s_to, to);
        GET(event, s_quantity, q);
        if (!may_take(r->batches, r->balances, batch, holder, time_us, q))
            goto done;
        moves[n_moves++] = (Move){batch, holder, to, q, kind == K_TRANSFER ? s_transfer : tag};
        key = batch;
    } else if (kind == K_TRANSFORM) {
        PyObject *in_b[MAX_PARTS], *out_b[MAX_PARTS], *in_q[MAX_PARTS], *out_q[MAX_PARTS];
        STR(event, s_holder, holder);
        GET(event, s_inputs, inputs);
        GET(event, s_outputs, outputs);
        if (!PyList_CheckExact(inputs) || !PyList_CheckExact(outputs))
            goto done;
        n_in = (int)PyList_GET_SIZE(inputs);
        n_out = (int)PyList_GET_SIZE(outputs);
        if (n_in < 1 || n_out < 1 || n_in > MAX_SIDE || n_out > MAX_SIDE)
            goto done;
        for (i = 0; i < n_in; i++) {
            PyObject *p = PyList_GET_ITEM(inputs, i);
            STR(p, s_batch, in_b[i]);
            GET(p, s_quantity, in_q[i]);
            for (j = 0; j < i; j++) /* a batch twice: Python judges each against the same */
                if (PyUnicode_Compare(in_b[j], in_b[i]) == 0)
                    goto done;
            if (!may_take(r->batches, r->balances, in_b[i], holder, time_us, in_q[i]))
                goto done;
        }
        for (i = 0; i < n_out; i++) {
            PyObject *o = PyList_GET_ITEM(outputs, i), *goods, *b[BATCH_FIELDS];
            STR(o, s_batch, out_b[i]);
            GET(o, s_quantity, out_q[i]);
            GET(o, s_goods, goods);
            for (j = 0; j < i; j++) /* two outputs of one number: Python's, and the store's */
                if (PyUnicode_Compare(out_b[j], out_b[i]) == 0)
                    goto done;
            if (!is_new(r->batches, out_b[i]))
                goto done;
            b[0] = out_b[i];
            GET(goods, s_hs, b[1]);
            GET(goods, s_unit, b[2]);
            GET(goods, s_description, b[3]);
            GET(goods, s_origin, b[4]);
            b[5] = PyLong_FromLongLong(time_us);
            if (b[5] == NULL) { result = -1; goto done; }
            OWN(b[5]);
            b[6] = id;
            new_batches[n_new] = slots_new(batch_type, batch_members, b, BATCH_FIELDS);
            if (new_batches[n_new] == NULL) { result = -1; goto done; }
            OWN(new_batches[n_new]);
            n_new++;
        }
        for (i = 0; i < n_in; i++)
            moves[n_moves++] = (Move){in_b[i], holder, Py_None, in_q[i], s_transform_in};
        for (i = 0; i < n_out; i++)
            moves[n_moves++] = (Move){out_b[i], Py_None, holder, out_q[i], s_transform_out};
        key = out_b[0];
    } else {
        goto done;
    }

    /* the row's parts that can fail for what the event holds, still before any change */
    text = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(canonical), PyBytes_GET_SIZE(canonical),
                                NULL);
    if (text == NULL) {
        PyErr_Clear();
        goto done;
    }
    OWN(text);
    h = next_hash(r, digest, raw);
    if (h == NULL) {
        PyErr_Clear(); /* Python's add_rows raises it again, the same way */
        goto done;
    }
    OWN(h);

    /* Overlay._fold: from here on the event is accepted */
    result = -1;
    {
        PyObject *kv[KNOWN_FIELDS] = {digest, canonical, event};
        PyObject *known = slots_new(known_type, known_members, kv, KNOWN_FIELDS);
        if (known == NULL)
            goto done;
        OWN(known);
        if (PyDict_SetItem(r->known, id, known) < 0)
            goto done;
    }
    for (i = 0; i < n_new; i++) {
        PyObject *batch = PyMember_GetOne((char *)new_batches[i], batch_members[0]);
        if (batch == NULL)
            goto done;
        int bad = PyDict_SetItem(r->batches, batch, new_batches[i]);
        Py_DECREF(batch);
        if (bad < 0)
            goto done;
    }
    for (i = 0; i < n_moves; i++) {
        Move *m = &moves[i];
        if (m->source != Py_None && add_balance(r, m->source, m->batch, m->q, -1) < 0)
            goto done;
        if (m->target != Py_None && add_balance(r, m->target, m->batch, m->q, +1) < 0)
            goto done;
    }

    /* store.add_rows: the event's row, its moves, batches and links */
    r->seq++;
    PyObject *seq = PyLong_FromLongLong(r->seq), *at = PyLong_FromLongLong(time_us);
    if (seq == NULL || at == NULL) {
        Py_XDECREF(seq);
        Py_XDECREF(at);
        goto done;
    }
    OWN(seq);
    OWN(at);
    row = PyTuple_Pack(11, seq, id, tag, at, key, text, digest, r->prev_s, h, r->now,
                       PyObject_IsTrue(PyTuple_GET_ITEM(kind_t, 2)) ? key : Py_None);
    if (row == NULL || PyList_Append(r->ev_rows, row) < 0)
        goto done;
    Py_SETREF(row, NULL);
    Py_INCREF(h);
    Py_SETREF(r->prev_s, h);
    memcpy(r->prev, raw, 32);
    for (i = 0; i < n_moves; i++) {
        Move *m = &moves[i];
        PyObject *n = PyLong_FromLong(i);
        if (n == NULL)
            goto done;
        row = PyTuple_Pack(9, seq, n, m->batch, m->source, m->target, m->q, m->kind, at, id);
        Py_DECREF(n);
        if (row == NULL || PyList_Append(r->move_rows, row) < 0)
            goto done;
        Py_SETREF(row, NULL);
    }
    for (i = 0; i < n_new; i++) {
        PyObject *v[BATCH_FIELDS];
        for (j = 0; j < BATCH_FIELDS; j++)
            v[j] = PyMember_GetOne((char *)new_batches[i], batch_members[j]);
        row = NULL;
        for (j = 0; j < BATCH_FIELDS; j++)
            if (v[j] == NULL)
                break;
        if (j == BATCH_FIELDS)
            row = PyTuple_Pack(7, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        for (j = 0; j < BATCH_FIELDS; j++)
            Py_XDECREF(v[j]);
        if (row == NULL || PyList_Append(r->batch_rows, row) < 0)
            goto done;
        Py_SETREF(row, NULL);
    }
    if (kind == K_TRANSFORM) {
        for (i = 0; i < n_out; i++)
            for (j = 0; j < n_in; j++) {
                PyObject *in_b = moves[j].batch, *out_b = moves[n_in + i].batch;
                row = PyTuple_Pack(3, in_b, out_b, seq);
                if (row == NULL || PyList_Append(r->link_rows, row) < 0)
                    goto done;
                Py_SETREF(row, NULL);
            }
    }
    if (PyList_Append(r->ids, id) < 0)
        goto done;
    result = 1;
done:
    Py_XDECREF(row);
    while (n_owned > 0)
        Py_DECREF(owned[--n_owned]);
    return result;
#undef OWN
#undef GET
#undef STR
}

/* --- the chunk ----------------------------------------------------------------------------- */

static PyObject *attr(PyObject *o, PyObject *name, PyTypeObject *type) {
    PyObject *v = PyObject_GetAttr(o, name);
    if (v != NULL && type != NULL && !Py_IS_TYPE(v, type)) {
        PyErr_Format(PyExc_TypeError, "%U is not a %s", name, type->tp_name);
        Py_CLEAR(v);
    }
    return v;
}

/* events judged between two chances for another thread to take the GIL (about 0.3-1 ms) */
#define YIELD_EVERY 128

/* run(overlay, items, start, out, ids, now) -> the index of the first item not handled */
static PyObject *run(PyObject *self, PyObject *args) {
    PyObject *overlay, *items, *out, *ids, *now, *after = NULL, *limit = NULL;
    Py_ssize_t start, i;
    Run r;
    memset(&r, 0, sizeof r);
    if (batch_type == NULL)
        return PyErr_Format(PyExc_RuntimeError, "keruen.store._judge is not configured");
    if (!PyArg_ParseTuple(args, "OO!nOO!O!", &overlay, &PyList_Type, &items, &start, &out,
                          &PyList_Type, &ids, &PyLong_Type, &now))
        return NULL;
    r.ids = ids;
    r.now = now;
    if ((r.batches = attr(overlay, s_batches, &PyDict_Type)) == NULL ||
        (r.balances = attr(overlay, s_balances, &PyDict_Type)) == NULL ||
        (r.known = attr(overlay, s_known, &PyDict_Type)) == NULL ||
        (r.touched = attr(overlay, s_touched, &PyDict_Type)) == NULL ||
        (r.held = attr(overlay, s_held_keys, &PySet_Type)) == NULL ||
        (r.ev_rows = attr(out, s_events, &PyList_Type)) == NULL ||
        (r.move_rows = attr(out, s_moves, &PyList_Type)) == NULL ||
        (r.batch_rows = attr(out, s_batches, &PyList_Type)) == NULL ||
        (r.link_rows = attr(out, s_links, &PyList_Type)) == NULL ||
        (after = attr(out, s_after, &PyTuple_Type)) == NULL ||
        (limit = attr(overlay, s_not_after_us, NULL)) == NULL)
        goto fail;
    if (PyTuple_GET_SIZE(after) != 2 || !PyLong_CheckExact(PyTuple_GET_ITEM(after, 0))) {
        PyErr_SetString(PyExc_TypeError, "out.after is not (seq, hash)");
        goto fail;
    }
    r.seq = PyLong_AsLongLong(PyTuple_GET_ITEM(after, 0));
    if (r.seq == -1 && PyErr_Occurred())
        goto fail;
    r.prev_s = PyTuple_GET_ITEM(after, 1);
    Py_INCREF(r.prev_s);
    if (limit != Py_None) {
        int beyond = 0; /* a huge KERUEN_FUTURE_TOLERANCE_S: past int64, and any datetime */
        if (!PyLong_CheckExact(limit)) {
            PyErr_SetString(PyExc_TypeError, "not_after_us is not an int");
            goto fail;
        }
        r.not_after = PyLong_AsLongLongAndOverflow(limit, &beyond);
        if (r.not_after == -1 && PyErr_Occurred())
            goto fail;
        r.has_limit = beyond <= 0;
        if (beyond < 0)
            r.not_after = INT64_MIN;
    }
    int64_t seq0 = r.seq;
    /* Between events, now and then, the GIL is let go: a thread waiting for it (the threaded
       split's writer, back from the server) runs as it would beside the Python judge, not
       after the whole chunk (20,000 events: 0.1-0.4 s). Nothing borrowed is held here. */
    for (i = start < 0 ? 0 : start; i < PyList_GET_SIZE(items); i++) {
        PyObject *item, *parsed;
        if (i % YIELD_EVERY == YIELD_EVERY - 1) {
            PyEval_RestoreThread(PyEval_SaveThread());
            if (i >= PyList_GET_SIZE(items))
                break;
        }
        item = PyList_GET_ITEM(items, i);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2)
            break;
        parsed = PyTuple_GET_ITEM(item, 1);
        if (!Py_IS_TYPE(parsed, (PyTypeObject *)parsed_type))
            break;
        Py_INCREF(parsed); /* admit's allocations may run a finalizer, another thread */
        int done = admit(&r, parsed);
        Py_DECREF(parsed);
        if (done < 0)
            goto fail;
        if (done == 0)
            break;
    }
    if (r.seq != seq0) {
        PyObject *seq = PyLong_FromLongLong(r.seq), *head;
        if (seq == NULL)
            goto fail;
        head = PyTuple_Pack(2, seq, r.prev_s);
        Py_DECREF(seq);
        if (head == NULL || PyObject_SetAttr(out, s_after, head) < 0) {
            Py_XDECREF(head);
            goto fail;
        }
        Py_DECREF(head);
    }
    Py_XDECREF(r.batches); Py_XDECREF(r.balances); Py_XDECREF(r.known);
    Py_XDECREF(r.touched); Py_XDECREF(r.held); Py_XDECREF(r.ev_rows);
    Py_XDECREF(r.move_rows); Py_XDECREF(r.batch_rows); Py_XDECREF(r.link_rows);
    Py_XDECREF(after); Py_XDECREF(limit); Py_XDECREF(r.prev_s);
    return PyLong_FromSsize_t(i);
fail:
    Py_XDECREF(r.batches); Py_XDECREF(r.balances); Py_XDECREF(r.known);
    Py_XDECREF(r.touched); Py_XDECREF(r.held); Py_XDECREF(r.ev_rows);
    Py_XDECREF(r.move_rows); Py_XDECREF(r.batch_rows); Py_XDECREF(r.link_rows);
    Py_XDECREF(after); Py_XDECREF(limit); Py_XDECREF(r.prev_s);
    return NULL;
}

/* --- what a chunk must read --------------------------------------------------------------- */

/* key into `into` unless `held` (a dict) has it; 0, or -1 with an error set */
static int add_missing(PyObject *into, PyObject *held, PyObject *key) {
    int has = PyDict_Contains(held, key);
    return has < 0 ? -1 : has ? 0 : PySet_Add(into, key);
}

static int add_missing_pair(PyObject *into, PyObject *held, PyObject *a, PyObject *b) {
    PyObject *key = PyTuple_Pack(2, a, b);
    int result = key == NULL ? -1 : add_missing(into, held, key);
    Py_XDECREF(key);
    return result;
}

/* the str attribute `name` of o (new reference), NULL without an error if it is none */
static PyObject *str_or_null(PyObject *o, PyObject *name) {
    PyObject *v = NULL;
    return str_field(o, name, &v) ? v : NULL;
}

/* One event of a kind judged here: its keys added (each only if not held); 1 done, 0 an odd
   event (Python's needs takes it; what was added is what Python adds for it too), -1 error */
static int event_needs(PyObject *e, int kind, PyObject *ids, PyObject *bids, PyObject *bkeys,
                       PyObject *known, PyObject *batches, PyObject *balances, int ids_only) {
    PyObject *id = str_or_null(e, s_id), *batch = NULL, *a = NULL, *b = NULL, *parts = NULL;
    int result = 0;
    Py_ssize_t i;
    if (id == NULL)
        goto done;
    if (add_missing(ids, known, id) < 0)
        goto fail;
    if (ids_only) { /* a whole state: it holds every batch and balance the ledger holds */
        result = 1;
        goto done;
    }
    if (kind == K_TRANSFORM) {
        if ((a = str_or_null(e, s_holder)) == NULL)
            goto done;
        for (int side = 0; side < 2; side++) {
            Py_XSETREF(parts, PyObject_GetAttr(e, side == 0 ? s_inputs : s_outputs));
            if (parts == NULL || !PyList_CheckExact(parts)) {
                PyErr_Clear();
                goto done;
            }
            for (i = 0; i < PyList_GET_SIZE(parts); i++) {
                Py_XSETREF(batch, str_or_null(PyList_GET_ITEM(parts, i), s_batch));
                if (batch == NULL)
                    goto done;
                if (add_missing(bids, batches, batch) < 0 ||
                    (side == 0 && add_missing_pair(bkeys, balances, a, batch) < 0))
                    goto fail;
            }
        }
        result = 1;
        goto done;
    }
    if ((batch = str_or_null(e, s_batch)) == NULL)
        goto done;
    if (add_missing(bids, batches, batch) < 0)
        goto fail;
    if (kind == K_TRANSFER) {
        if ((a = str_or_null(e, s_from)) == NULL || (b = str_or_null(e, s_to)) == NULL)
            goto done;
        if (add_missing_pair(bkeys, balances, a, batch) < 0 ||
            add_missing_pair(bkeys, balances, b, batch) < 0)
            goto fail;
    } else if (kind == K_TAKE) {
        if ((a = str_or_null(e, s_holder)) == NULL)
            goto done;
        if (add_missing_pair(bkeys, balances, a, batch) < 0)
            goto fail;
    }
    result = 1;
    goto done;
fail:
    result = -1;
done:
    Py_XDECREF(id); Py_XDECREF(batch); Py_XDECREF(a); Py_XDECREF(b); Py_XDECREF(parts);
    return result;
}

/* missing(events, known, batches, balances, ids_only=False) -> (ids, batches, balances, rest):
   keruen.ledger.overlay.needs for the kinds judged here, each key only where the overlay's
   dict does not hold it (with `ids_only`, the event ids alone: a whole state's); every other
   event (adjust, cancel, any other type, anything odd) in `rest`, for Python's needs. */
static PyObject *missing(PyObject *self, PyObject *args) {
    PyObject *events, *known, *batches, *balances, *seq, *ids, *bids, *bkeys, *rest;
    Py_ssize_t i;
    int ids_only = 0;
    if (kinds == NULL)
        return PyErr_Format(PyExc_RuntimeError, "keruen.store._judge is not configured");
    if (!PyArg_ParseTuple(args, "OO!O!O!|p", &events, &PyDict_Type, &known, &PyDict_Type,
                          &batches, &PyDict_Type, &balances, &ids_only))
        return NULL;
    if ((seq = PySequence_Fast(events, "events is not a sequence")) == NULL)
        return NULL;
    ids = PySet_New(NULL);
    bids = PySet_New(NULL);
    bkeys = PySet_New(NULL);
    rest = PyList_New(0);
    if (ids == NULL || bids == NULL || bkeys == NULL || rest == NULL)
        goto fail;
    for (i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *e = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *kind_t = PyDict_GetItemWithError(kinds, (PyObject *)Py_TYPE(e));
        int done = 0;
        if (kind_t == NULL && PyErr_Occurred())
            goto fail;
        if (kind_t != NULL) {
            int kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(kind_t, 0));
            done = event_needs(e, kind, ids, bids, bkeys, known, batches, balances, ids_only);
            if (done < 0)
                goto fail;
        }
        if (!done && PyList_Append(rest, e) < 0)
            goto fail;
    }
    Py_DECREF(seq);
    return Py_BuildValue("(NNNN)", ids, bids, bkeys, rest);
fail:
    Py_DECREF(seq);
    Py_XDECREF(ids); Py_XDECREF(bids); Py_XDECREF(bkeys); Py_XDECREF(rest);
    return NULL;
}

/* Two str in code-point order (Python's `<` on str): the bytes of the compact forms compared
   directly when both are of one kind, else PyUnicode_Compare. */
static int str_order(PyObject *a, PyObject *b) {
    if (a == b)
        return 0;
    int ka = PyUnicode_KIND(a), kb = PyUnicode_KIND(b);
    if (ka == kb && ka == PyUnicode_1BYTE_KIND) {
        Py_ssize_t la = PyUnicode_GET_LENGTH(a), lb = PyUnicode_GET_LENGTH(b);
        int c = memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)(la < lb ? la : lb));
        return c != 0 ? c : (la > lb) - (la < lb);
    }
    return PyUnicode_Compare(a, b); /* of two str: never an error */
}

/* A balance key for sorting: the first code points of its holder (16) and batch (8) packed
   big-endian, zero-padded, when they are all below 256 (`packed`): two such prefixes that
   differ order their strings as Python does (a shorter string is a prefix padded with zeros,
   which sorts first), so most comparisons read this array and not the str objects. */
typedef struct {
    uint64_t h0, h1, b0;
    int packed;
    PyObject *key, *q; /* borrowed from the dict */
} SortKey;

static int pack(PyObject *s, Py_ssize_t from, uint64_t *out) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s), i;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    uint64_t v = 0;
    for (i = from; i < from + 8; i++) {
        Py_UCS4 c = i < n ? PyUnicode_READ(kind, data, i) : 0;
        if (c > 255)
            return 0;
        v = (v << 8) | c;
    }
    *out = v;
    return 1;
}

static int sort_key_order(const void *x, const void *y) {
    const SortKey *a = x, *b = y;
    int c;
    if (a->packed && b->packed) {
        if (a->h0 != b->h0)
            return a->h0 < b->h0 ? -1 : 1;
        if (a->h1 != b->h1)
            return a->h1 < b->h1 ? -1 : 1;
    }
    c = str_order(PyTuple_GET_ITEM(a->key, 0), PyTuple_GET_ITEM(b->key, 0));
    if (c != 0)
        return c;
    if (a->packed && b->packed && a->b0 != b->b0)
        return a->b0 < b->b0 ? -1 : 1;
    return str_order(PyTuple_GET_ITEM(a->key, 1), PyTuple_GET_ITEM(b->key, 1));
}

/* finish(touched, written, emptied): store.finish_rows's loop. `touched` maps each balance
   the chunk changed to its value now; in key order, each goes to `written` as (holder, batch,
   quantity), or its key to `emptied` when it is zero. The keys are sorted here on packed
   prefixes and a C comparison of their str (list.sort compares the tuples through the object
   protocol: 3-4x slower). */
static PyObject *finish(PyObject *self, PyObject *args) {
    PyObject *touched, *written, *emptied, *key, *q;
    Py_ssize_t i = 0, pos = 0, n;
    SortKey *keys;
    if (!PyArg_ParseTuple(args, "O!O!O!", &PyDict_Type, &touched, &PyList_Type, &written,
                          &PyList_Type, &emptied))
        return NULL;
    n = PyDict_GET_SIZE(touched);
    if ((keys = PyMem_Calloc((size_t)(n ? n : 1), sizeof *keys)) == NULL)
        return PyErr_NoMemory();
    while (PyDict_Next(touched, &pos, &key, &q)) {
        SortKey *k = &keys[i++];
        if (!PyTuple_CheckExact(key) || PyTuple_GET_SIZE(key) != 2 ||
            !PyUnicode_CheckExact(PyTuple_GET_ITEM(key, 0)) ||
            !PyUnicode_CheckExact(PyTuple_GET_ITEM(key, 1))) {
            PyErr_SetString(PyExc_TypeError, "a balance key is (holder, batch), two str");
            goto fail;
        }
        k->key = key;
        k->q = q;
        k->packed = pack(PyTuple_GET_ITEM(key, 0), 0, &k->h0) &&
                    pack(PyTuple_GET_ITEM(key, 0), 8, &k->h1) &&
                    pack(PyTuple_GET_ITEM(key, 1), 0, &k->b0);
    }
    qsort(keys, (size_t)n, sizeof *keys, sort_key_order);
    for (i = 0; i < n; i++) {
        PyObject *row;
        int nonzero;
        key = keys[i].key;
        q = keys[i].q;
        /* q != 0, as Python writes it; a Decimal's truth is the same and costs no conversion */
        if ((nonzero = PyObject_IsTrue(q)) < 0)
            goto fail;
        if (nonzero) {
            row = PyTuple_Pack(3, PyTuple_GET_ITEM(key, 0), PyTuple_GET_ITEM(key, 1), q);
            if (row == NULL || PyList_Append(written, row) < 0) {
                Py_XDECREF(row);
                goto fail;
            }
            Py_DECREF(row);
        } else if (PyList_Append(emptied, key) < 0) {
            goto fail;
        }
    }
    PyMem_Free(keys);
    Py_RETURN_NONE;
fail:
    PyMem_Free(keys);
    return NULL;
}

/* --- the ids a state has accepted: a blocked Bloom filter ---------------------------------

   A state read from an empty ledger (keruen.ledger.overlay.Overlay.seen) holds, in a
   bytearray, a filter of every id accepted on it: an id the filter lacks is in no stored
   event, so the store does not look it up. One 64-byte block per id (one cache line), 4 bits
   in it; the bits come from the str's own hash (computed once, kept in the str) mixed. */

static uint64_t mix64(uint64_t x) { /* splitmix64's finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* the block (its first byte) and the 4 bit numbers (0-511) of `id`; 0 with an error set */
static int seen_bits(PyObject *filter, PyObject *id, uint8_t **block, unsigned bit[4]) {
    Py_ssize_t size = PyByteArray_GET_SIZE(filter), blocks = size / 64;
    Py_hash_t h;
    uint64_t x, y;
    int i;
    if (!PyUnicode_Check(id)) {
        PyErr_SetString(PyExc_TypeError, "an id is a str");
        return 0;
    }
    if ((h = PyObject_Hash(id)) == -1)
        return 0;
    x = mix64((uint64_t)h);
    y = mix64(x ^ 0x9e3779b97f4a7c15ULL);
    *block = (uint8_t *)PyByteArray_AS_STRING(filter) + 64 * (Py_ssize_t)(x % (uint64_t)blocks);
    for (i = 0; i < 4; i++)
        bit[i] = (unsigned)(y >> (9 * i)) & 511;
    return 1;
}

static PyObject *seen_filter(PyObject *args, PyObject **ids) {
    PyObject *filter;
    if (!PyArg_ParseTuple(args, "O!O", &PyByteArray_Type, &filter, ids))
        return NULL;
    if (PyByteArray_GET_SIZE(filter) < 64 || PyByteArray_GET_SIZE(filter) % 64) {
        PyErr_SetString(PyExc_ValueError, "the filter is whole 64-byte blocks");
        return NULL;
    }
    return filter;
}

/* Each id's block and bits, every block asked of memory (prefetched) before any is read: one
   random cache line an id in a filter larger than the caches, so the reads overlap instead of
   waiting one after the other (20,000 new ids, the caches evicted: maybe_seen 216-244 -> 68-109
   ns an id, seen_add 220-271 -> 69-96). `*ids` becomes a sequence (a new reference); NULL
   with an error set. */
typedef struct {
    uint8_t *block;
    unsigned bit[4];
} Probe;

static Probe *probes(PyObject *filter, PyObject **ids, Py_ssize_t *n) {
    PyObject *seq = PySequence_Fast(*ids, "ids is not iterable");
    Probe *out;
    Py_ssize_t i;
    if (seq == NULL)
        return NULL;
    *n = PySequence_Fast_GET_SIZE(seq);
    if ((out = PyMem_Malloc(sizeof(Probe) * (size_t)(*n > 0 ? *n : 1))) == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return NULL;
    }
    for (i = 0; i < *n; i++) {
        if (!seen_bits(filter, PySequence_Fast_GET_ITEM(seq, i), &out[i].block, out[i].bit)) {
            PyMem_Free(out);
            Py_DECREF(seq);
            return NULL;
        }
        __builtin_prefetch(out[i].block);
    }
    *ids = seq;
    return out;
}

/* seen_add(filter, ids): each id (an iterable of str) into the filter */
static PyObject *seen_add(PyObject *self, PyObject *args) {
    PyObject *ids, *filter = seen_filter(args, &ids);
    Py_ssize_t n, i;
    Probe *p;
    int b;
    if (filter == NULL || (p = probes(filter, &ids, &n)) == NULL)
        return NULL;
    for (i = 0; i < n; i++)
        for (b = 0; b < 4; b++)
            p[i].block[p[i].bit[b] >> 3] |= (uint8_t)(1u << (p[i].bit[b] & 7));
    PyMem_Free(p);
    Py_DECREF(ids);
    Py_RETURN_NONE;
}

/* maybe_seen(filter, ids) -> the ids (a set) the filter may hold: each of the others was
   certainly never added */
static PyObject *maybe_seen(PyObject *self, PyObject *args) {
    PyObject *ids, *filter = seen_filter(args, &ids), *out;
    Py_ssize_t n, i;
    Probe *p;
    int b, all;
    if (filter == NULL || (p = probes(filter, &ids, &n)) == NULL)
        return NULL;
    if ((out = PySet_New(NULL)) == NULL)
        goto done;
    for (i = 0; i < n; i++) {
        for (all = 1, b = 0; b < 4; b++)
            all &= p[i].block[p[i].bit[b] >> 3] >> (p[i].bit[b] & 7);
        if ((all & 1) && PySet_Add(out, PySequence_Fast_GET_ITEM(ids, i)) < 0) {
            Py_CLEAR(out);
            break;
        }
    }
done:
    PyMem_Free(p);
    Py_DECREF(ids);
    return out;
}

/* grouped(rows, n, null): (groups, rest), the parameters of a chunk's write on SQLite (see
   keruen.store.driver._grouped): each group is one tuple of the values of n rows, in order,
   with None given as `null`; rest is the list of rows left over, as they were. All rows are
   tuples of one width. */
static PyObject *grouped(PyObject *self, PyObject *args) {
    PyObject *rows, *null, *groups, *rest, *row, *group;
    Py_ssize_t n, count, full, width = 0, g, r, c;
    if (!PyArg_ParseTuple(args, "O!nO", &PyList_Type, &rows, &n, &null))
        return NULL;
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "n is at least 1");
        return NULL;
    }
    count = PyList_GET_SIZE(rows);
    full = count - count % n;
    for (r = 0; r < count; r++) {
        row = PyList_GET_ITEM(rows, r);
        if (!PyTuple_Check(row) || (r > 0 && PyTuple_GET_SIZE(row) != width)) {
            PyErr_SetString(PyExc_TypeError, "rows are tuples of one width");
            return NULL;
        }
        width = PyTuple_GET_SIZE(row);
    }
    if ((groups = PyList_New(full / n)) == NULL)
        return NULL;
    for (g = 0; g < full / n; g++) {
        PyObject **to;
        if ((group = PyTuple_New(n * width)) == NULL) {
            Py_DECREF(groups);
            return NULL;
        }
        to = &PyTuple_GET_ITEM(group, 0);
        for (r = g * n; r < (g + 1) * n; r++) {
            row = PyList_GET_ITEM(rows, r);
            for (c = 0; c < width; c++) {
                PyObject *v = PyTuple_GET_ITEM(row, c);
                *to++ = Py_NewRef(v == Py_None ? null : v);
            }
        }
        PyList_SET_ITEM(groups, g, group);
    }
    if ((rest = PyList_GetSlice(rows, full, count)) == NULL) {
        Py_DECREF(groups);
        return NULL;
    }
    return Py_BuildValue("(NN)", groups, rest);
}

/* chain(prev, digest): keruen.store.chain.chain_hash, for the tests */
static PyObject *chain(PyObject *self, PyObject *args) {
    PyObject *prev, *digest;
    uint8_t in[64], out[32];
    if (!PyArg_ParseTuple(args, "UU", &prev, &digest))
        return NULL;
    if (!unhex64(prev, in) || !unhex64(digest, in + 32))
        return PyErr_Format(PyExc_ValueError, "not 64 hex digits");
    sha256_64(in, out);
    return hex_of(out);
}

/* micros(t): keruen.clock.micros, for the tests; None where the native judge defers */
static PyObject *py_micros(PyObject *self, PyObject *t) {
    int64_t us;
    if (!micros(t, &us))
        Py_RETURN_NONE;
    return PyLong_FromLongLong(us);
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS, "Set the classes and constants the judge uses."},
    {"run", run, METH_VARARGS, "Admit a chunk's items from `start` on, while handled."},
    {"finish", finish, METH_VARARGS, "The balances a chunk changed, in key order."},
    {"missing", missing, METH_VARARGS, "What a chunk's events name that the overlay lacks."},
    {"seen_add", seen_add, METH_VARARGS, "Add ids to a filter of accepted ids."},
    {"maybe_seen", maybe_seen, METH_VARARGS, "The ids a filter of accepted ids may hold."},
    {"grouped", grouped, METH_VARARGS, "Rows as the parameters of n-row statements."},
    {"chain", chain, METH_VARARGS, "The chain hash of prev and digest (hex)."},
    {"micros", py_micros, METH_O, "A datetime as ledger microseconds, or None."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "keruen.store._judge",
                                    "The ingest's native judge (see keruen.store.judge).", -1,
                                    methods};

#define INTERN(var, text) if (((var) = PyUnicode_InternFromString(text)) == NULL) return NULL

PyMODINIT_FUNC PyInit__judge(void) {
    hex_table();
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    INTERN(s_event, "event"); INTERN(s_canonical, "canonical"); INTERN(s_digest, "digest");
    INTERN(s_id, "id"); INTERN(s_time, "time"); INTERN(s_batch, "batch");
    INTERN(s_holder, "holder"); INTERN(s_from, "from_"); INTERN(s_to, "to");
    INTERN(s_quantity, "quantity"); INTERN(s_goods, "goods"); INTERN(s_hs, "hs");
    INTERN(s_unit, "unit"); INTERN(s_description, "description"); INTERN(s_origin, "origin");
    INTERN(s_inputs, "inputs"); INTERN(s_outputs, "outputs");
    INTERN(s_to_integral_value, "to_integral_value"); INTERN(s_utcoffset, "utcoffset");
    INTERN(s_batches, "batches"); INTERN(s_balances, "balances"); INTERN(s_known, "known");
    INTERN(s_touched, "touched"); INTERN(s_held_keys, "held_keys");
    INTERN(s_not_after_us, "not_after_us"); INTERN(s_events, "events");
    INTERN(s_moves, "moves"); INTERN(s_links, "links"); INTERN(s_after, "after");
    INTERN(s_transfer, "transfer"); INTERN(s_transform_in, "transform_in");
    INTERN(s_transform_out, "transform_out");
    return PyModule_Create(&module);
}
