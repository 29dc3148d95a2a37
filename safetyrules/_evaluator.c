/* The compiled evaluator: decides a lowered rule program on one record's facts, in C.
 *
 * safetyrules/backends/compiled.py lowers the compiler's typed IR into a flat array of nodes (a
 * tree stored as indices) plus a table of fact slots; this file only executes that form. It holds
 * no rule text and no Python code from rules: every node is an opcode with integer and number
 * operands made by the lowering from validated IR values.
 *
 * What it decides, and how:
 * - Three-valued (Kleene) logic: a fact not recorded (absent or null) is unknown; unknown
 *   propagates through arithmetic and comparisons; `false and unknown` is false, `true or unknown`
 *   is true.
 * - Numbers are doubles with a flag saying whether the double is order-faithful to the exact value
 *   (recorded values and literals that are their own shortest repr are: their order is the order of
 *   the decimals written). Arithmetic results carry a bound on their rounding error; a comparison
 *   whose sides are closer than that bound (a possible tie, such as 7150 > 6500 * 110%) is decided
 *   again in exact rational arithmetic (64-bit numerators and denominators, overflow-checked).
 * - Lists of items (cranes, working faces) are checked as the general path checks them and read in
 *   place; a rule over a list is decided item by item, and any/all/count are Kleene or/and/sums.
 * - Anything outside this fast path sends the whole record back to the general Python path, which
 *   gives the same answer or the proper error: an unknown fact name, a value of the wrong type or
 *   outside its enum or bounds, a number beyond 2**53, an invalid list, an exact computation that
 *   overflows. run() then returns None. The fast path never has to be right about the hard cases,
 *   only about the common ones, and property tests compare it with the reference interpreter.
 *
 * The result is one byte per module (its scope: 0 false, 1 true, 2 unknown) followed by one byte
 * per rule (0 not matched, 1 matched, 2 undetermined, 3 not applicable).
 *
 * Thread safety: a Program is immutable after construction; run() keeps its per-record state on
 * the C stack (or a heap block of its own) and holds the GIL throughout.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The lowered program's numbers (opcodes, slot kinds, codes, ABI_VERSION, limits), generated from
 * safetyrules/ir/lowered.py: the Python lowering and this file read the same declaration. */
#include "_evaluator_abi.h"

#define NO_CODE INT64_MIN

typedef struct {
    int32_t op, a, b, c;
    double d;        /* number literal */
    int64_t num, den; /* its exact value, when den > 0 */
    int32_t exact;   /* literal: its double is order-faithful (its own shortest repr) */
} Node;

/* Name -> index, an open-addressing table over str hashes: the per-fact lookup of every record. */
typedef struct {
    PyObject *key; /* an exact str (owned) */
    Py_hash_t hash;
    int32_t index;
} KeyEntry;

typedef struct {
    KeyEntry *entries;
    size_t mask;
} KeyTable;

typedef struct SlotSpec {
    int kind, flags;
    double lo, hi;
    PyObject *codes; /* enum facts: dict value -> code (owned) */
    /* lists: the item fields */
    PyObject *field_names; /* tuple of str (owned) */
    KeyTable field_index;
    struct SlotSpec *fields;
    Py_ssize_t n_fields, key_field;
} SlotSpec;

typedef struct {
    PyObject_HEAD
    KeyTable slot_index; /* fact name -> slot */
    Py_ssize_t n_slots, n_nodes, n_kids, n_derived, n_modules, n_rules;
    SlotSpec *slots;
    Node *nodes;
    int32_t *kids;
    int32_t *derived_roots;
    int32_t *module_scope, *module_first, *module_count;
    /* per rule: applies_if node (-1: none), when node, and for a rule over a list: its slot (-1:
     * none), its variable, and whether applies_if can be decided without an item */
    int32_t *rule_applies, *rule_when, *rule_list, *rule_var, *rule_applies_global;
    double tie_tolerance;
    int has_lists; /* some fact is a list of items: a record's copy must copy its lists too */
} Program;

/* One record's facts and memoised derived values. */
typedef struct {
    double num;
    int64_t code;
    PyObject *list; /* lists: the recorded list (borrowed from the record for the run) */
    unsigned char known, seen, integral;
} SlotValue;

typedef struct {
    double v, m;      /* value; rounding-error magnitude when !exact */
    int known, exact; /* exact: the double is order-faithful to the exact value */
    int integral;     /* the double is exactly an integer below 2**53 (arithmetic on it is exact) */
} Num;

typedef struct {
    int state; /* 0 not computed, 1 computing/computed */
    Num num;
    int tri;
    int64_t code;
} DerivedValue;

typedef struct {
    const Program *p;
    SlotValue *slots;
    DerivedValue *derived;
    int64_t today;
    int bail; /* the record must go to the general path */
    PyObject *bound[MAX_VARS]; /* the item each variable is bound to */
} Ctx;

typedef struct {
    int64_t n, d; /* d > 0 */
    int known, ok;
} Rat;

static Num eval_num(Ctx *x, int32_t i);
static int eval_bool(Ctx *x, int32_t i);
static int64_t eval_code(Ctx *x, int32_t i);
static Rat eval_rat(Ctx *x, int32_t i);
static int read_item(Ctx *x, const Node *nd, SlotValue *out);

/* ------------------------------------------------------------------ exact rationals */

static int64_t gcd64(int64_t a, int64_t b) {
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static Rat rat_fail(void) { Rat r = {0, 1, 1, 0}; return r; }
static Rat rat_unknown(void) { Rat r = {0, 1, 0, 1}; return r; }

static Rat rat_make(__int128 n, __int128 d) {
    if (d == 0) return rat_fail();
    if (d < 0) { n = -n; d = -d; }
    __int128 a = n < 0 ? -n : n, b = d;
    while (b) { __int128 t = a % b; a = b; b = t; }
    if (a > 1) { n /= a; d /= a; }
    if (n > INT64_MAX || n < -INT64_MAX || d > INT64_MAX) return rat_fail();
    Rat r = {(int64_t)n, (int64_t)d, 1, 1};
    return r;
}

static int rat_cmp(Rat a, Rat b) {
    __int128 l = (__int128)a.n * b.d, r = (__int128)b.n * a.d;
    return (l > r) - (l < r);
}

/* The exact value of a recorded double: its shortest decimal representation. */
static Rat rat_of_double(double v, int integral) {
    if (integral) { Rat r = {(int64_t)v, 1, 1, 1}; return r; }
    char *s = PyOS_double_to_string(v, 'r', 0, 0, NULL);
    if (s == NULL) { PyErr_Clear(); return rat_fail(); }
    const char *c = s;
    int neg = 0, digits = 0;
    int64_t mant = 0;
    int exp10 = 0, ok = 1;
    if (*c == '-') { neg = 1; c++; }
    for (; *c >= '0' && *c <= '9'; c++) {
        if (++digits > 18) { ok = 0; break; }
        mant = mant * 10 + (*c - '0');
    }
    if (ok && *c == '.') {
        for (c++; *c >= '0' && *c <= '9'; c++) {
            if (++digits > 18) { ok = 0; break; }
            mant = mant * 10 + (*c - '0');
            exp10--;
        }
    }
    if (ok && (*c == 'e' || *c == 'E')) {
        c++;
        int eneg = 0, e = 0;
        if (*c == '+' || *c == '-') { eneg = *c == '-'; c++; }
        for (; *c >= '0' && *c <= '9'; c++) { e = e * 10 + (*c - '0'); if (e > 400) { ok = 0; break; } }
        exp10 += eneg ? -e : e;
    }
    if (ok && *c != '\0') ok = 0;
    PyMem_Free(s);
    if (!ok) return rat_fail();
    __int128 n = neg ? -(__int128)mant : (__int128)mant, d = 1;
    while (exp10 > 0) { n *= 10; exp10--; if (n > INT64_MAX || n < -INT64_MAX) return rat_fail(); }
    while (exp10 < 0) { d *= 10; exp10++; if (d > INT64_MAX) return rat_fail(); }
    return rat_make(n, d);
}

static Rat eval_rat(Ctx *x, int32_t i) {
    const Node *nd = &x->p->nodes[i];
    Rat a, b;
    switch (nd->op) {
    case N_LIT:
        if (nd->den <= 0) return rat_fail();
        a.n = nd->num; a.d = nd->den; a.known = 1; a.ok = 1;
        return a;
    case N_FACT: {
        const SlotValue *s = &x->slots[nd->a];
        if (!s->known) return rat_unknown();
        return rat_of_double(s->num, s->integral);
    }
    case N_DERIVED:
        return eval_rat(x, x->p->derived_roots[nd->a]);
    case I_NUM: {
        SlotValue s;
        if (!read_item(x, nd, &s)) return x->bail ? rat_fail() : rat_unknown();
        return rat_of_double(s.num, s.integral);
    }
    case Q_COUNT: {
        Num n = eval_num(x, i);
        if (!n.known) return rat_unknown();
        a.n = (int64_t)n.v; a.d = 1; a.known = 1; a.ok = 1;
        return a;
    }
    case N_NEG: case N_ABS:
        a = eval_rat(x, nd->a);
        if (!a.ok || !a.known) return a;
        if (nd->op == N_NEG || a.n < 0) a.n = -a.n;
        return a;
    case N_ADD: case N_SUB: case N_MUL: case N_DIV: case N_MIN: case N_MAX:
        a = eval_rat(x, nd->a);
        b = eval_rat(x, nd->b);
        if (!a.ok) return a;
        if (!b.ok) return b;
        if (!a.known || !b.known) return rat_unknown();
        switch (nd->op) {
        case N_ADD: return rat_make((__int128)a.n * b.d + (__int128)b.n * a.d, (__int128)a.d * b.d);
        case N_SUB: return rat_make((__int128)a.n * b.d - (__int128)b.n * a.d, (__int128)a.d * b.d);
        case N_MUL: {
            /* cross-reduce first so that products stay in range */
            int64_t g1 = gcd64(a.n, b.d), g2 = gcd64(b.n, a.d);
            if (g1 == 0) g1 = 1;
            if (g2 == 0) g2 = 1;
            return rat_make((__int128)(a.n / g1) * (b.n / g2), (__int128)(a.d / g2) * (b.d / g1));
        }
        case N_DIV:
            if (b.n == 0) return rat_unknown();
            return rat_make((__int128)a.n * b.d, (__int128)a.d * b.n);
        case N_MIN: return rat_cmp(a, b) <= 0 ? a : b;
        default: return rat_cmp(a, b) >= 0 ? a : b;
        }
    case N_CLAMP: {
        Rat lo = eval_rat(x, nd->b), hi = eval_rat(x, nd->c);
        a = eval_rat(x, nd->a);
        if (!a.ok) return a;
        if (!lo.ok) return lo;
        if (!hi.ok) return hi;
        if (!a.known || !lo.known || !hi.known) return rat_unknown();
        if (rat_cmp(a, lo) < 0) a = lo;
        return rat_cmp(a, hi) <= 0 ? a : hi;
    }
    case N_IF: {
        int c = eval_bool(x, nd->a);
        if (c == T_TRUE) return eval_rat(x, nd->b);
        if (c == T_FALSE) return eval_rat(x, nd->c);
        a = eval_rat(x, nd->b);
        b = eval_rat(x, nd->c);
        if (!a.ok) return a;
        if (!b.ok) return b;
        if (a.known && b.known && rat_cmp(a, b) == 0) return a;
        return rat_unknown();
    }
    case N_DAYS: {
        int64_t d0 = eval_code(x, nd->a), d1 = eval_code(x, nd->b);
        if (d0 == NO_CODE || d1 == NO_CODE) return rat_unknown();
        a.n = d1 - d0; a.d = 1; a.known = 1; a.ok = 1;
        return a;
    }
    default:
        return rat_fail();
    }
}

/* ------------------------------------------------------------------ numbers */

static inline double mag(const Num *n) { return n->exact ? fabs(n->v) : n->m; }

static Num num_unknown(void) { Num n = {0.0, 0.0, 0, 1, 0}; return n; }

static Num eval_num(Ctx *x, int32_t i) {
    const Node *nd = &x->p->nodes[i];
    Num r, a, b;
    switch (nd->op) {
    case N_LIT:
        r.v = nd->d; r.known = 1; r.exact = nd->exact; r.m = fabs(nd->d);
        r.integral = nd->exact && nd->den == 1;
        return r;
    case N_FACT: {
        const SlotValue *s = &x->slots[nd->a];
        if (!s->known) return num_unknown();
        r.v = s->num; r.known = 1; r.exact = 1; r.m = 0.0; r.integral = s->integral;
        return r;
    }
    case N_DERIVED: {
        DerivedValue *dv = &x->derived[nd->a];
        if (!dv->state) {
            dv->state = 1;
            dv->num = eval_num(x, x->p->derived_roots[nd->a]);
        }
        return dv->num;
    }
    case I_NUM: {
        SlotValue s;
        if (!read_item(x, nd, &s)) return num_unknown();
        r.v = s.num; r.known = 1; r.exact = 1; r.m = 0.0; r.integral = s.integral;
        return r;
    }
    case Q_COUNT: {
        const SlotValue *s = &x->slots[nd->a];
        if (!s->known) return num_unknown();
        Py_ssize_t n = PyList_GET_SIZE(s->list), count = 0;
        if (nd->c >= 0) {
            PyObject *saved = x->bound[nd->b];
            int unknown = 0;
            for (Py_ssize_t j = 0; j < n; j++) {
                x->bound[nd->b] = PyList_GET_ITEM(s->list, j);
                int v = eval_bool(x, nd->c);
                if (v == T_TRUE) count++;
                else if (v == T_UNKNOWN) unknown = 1;
            }
            x->bound[nd->b] = saved;
            if (unknown) return num_unknown();
        } else {
            count = n;
        }
        r.v = (double)count; r.known = 1; r.exact = 1; r.integral = 1; r.m = 0.0;
        return r;
    }
    case N_NEG: case N_ABS:
        a = eval_num(x, nd->a);
        if (a.known && (nd->op == N_NEG || a.v < 0)) a.v = -a.v;
        return a;
    case N_ADD: case N_SUB: case N_MUL: case N_DIV: {
        a = eval_num(x, nd->a);
        b = eval_num(x, nd->b);
        if (!a.known || !b.known) return num_unknown();
        r.known = 1; r.exact = 0; r.integral = 0;
        double ma = mag(&a), mb = mag(&b);
        switch (nd->op) {
        case N_ADD: r.v = a.v + b.v; r.m = ma + mb; break;
        case N_SUB: r.v = a.v - b.v; r.m = ma + mb; break;
        case N_MUL: r.v = a.v * b.v; r.m = ma * mb; break;
        default:
            if (!b.exact && fabs(b.v) <= x->p->tie_tolerance * b.m) {
                /* a divisor that may be zero in exact arithmetic and not in floats, or the reverse */
                Rat rb = eval_rat(x, nd->b);
                if (!rb.ok || !rb.known) { x->bail = 1; return num_unknown(); }
                if (rb.n == 0) return num_unknown();
                if (b.v == 0.0) { x->bail = 1; return num_unknown(); }
            }
            if (b.v == 0.0) return num_unknown(); /* division undefined: unknown, as in the interpreter */
            r.v = a.v / b.v;
            r.m = (ma + fabs(a.v / b.v) * mb) / fabs(b.v);
        }
        /* integer arithmetic below 2**53 is exact in doubles */
        if (a.integral && b.integral && nd->op != N_DIV && fabs(r.v) < FAST_NUMBER_LIMIT) {
            r.exact = 1; r.integral = 1; r.m = 0.0;
        }
        return r;
    }
    case N_MIN: case N_MAX:
        a = eval_num(x, nd->a);
        b = eval_num(x, nd->b);
        if (!a.known || !b.known) return num_unknown();
        if (a.exact && b.exact) return (nd->op == N_MIN) == (a.v <= b.v) ? a : b;
        r = (nd->op == N_MIN) == (a.v <= b.v) ? a : b;
        r.m = fmax(mag(&a), mag(&b)); r.exact = 0; r.integral = 0;
        return r;
    case N_CLAMP: {
        /* min(max(x, low), high): the value chosen is one of the three, so its error is theirs */
        Num lo, hi;
        a = eval_num(x, nd->a);
        lo = eval_num(x, nd->b);
        hi = eval_num(x, nd->c);
        if (!a.known || !lo.known || !hi.known) return num_unknown();
        r = a.v >= lo.v ? a : lo;
        r = r.v <= hi.v ? r : hi;
        if (!(a.exact && lo.exact && hi.exact)) {
            r.m = fmax(fmax(mag(&a), mag(&lo)), mag(&hi)); r.exact = 0; r.integral = 0;
        }
        return r;
    }
    case N_IF: {
        int c = eval_bool(x, nd->a);
        if (c == T_TRUE) return eval_num(x, nd->b);
        if (c == T_FALSE) return eval_num(x, nd->c);
        a = eval_num(x, nd->b);
        b = eval_num(x, nd->c);
        if (!a.known || !b.known) return num_unknown();
        if (a.exact && b.exact) return a.v == b.v ? a : num_unknown();
        if (fabs(a.v - b.v) <= x->p->tie_tolerance * (mag(&a) + mag(&b))) {
            Rat ra = eval_rat(x, nd->b), rb = eval_rat(x, nd->c);
            if (!ra.ok || !rb.ok || !ra.known || !rb.known) { x->bail = 1; return num_unknown(); }
            if (rat_cmp(ra, rb) == 0) { a.m = fmax(mag(&a), mag(&b)); a.exact = 0; a.integral = 0; return a; }
        }
        return num_unknown();
    }
    case N_DAYS: {
        int64_t d0 = eval_code(x, nd->a), d1 = eval_code(x, nd->b);
        if (d0 == NO_CODE || d1 == NO_CODE) return num_unknown();
        r.v = (double)(d1 - d0); r.known = 1; r.exact = 1; r.integral = 1; r.m = 0.0;
        return r;
    }
    default:
        x->bail = 1;
        return num_unknown();
    }
}

/* ------------------------------------------------------------------ codes (enum values, dates) */

static int64_t eval_code(Ctx *x, int32_t i) {
    const Node *nd = &x->p->nodes[i];
    switch (nd->op) {
    case C_LIT:
        return nd->num;
    case C_FACT: {
        const SlotValue *s = &x->slots[nd->a];
        return s->known ? s->code : NO_CODE;
    }
    case C_DERIVED: {
        DerivedValue *dv = &x->derived[nd->a];
        if (!dv->state) {
            dv->state = 1;
            dv->code = eval_code(x, x->p->derived_roots[nd->a]);
        }
        return dv->code;
    }
    case C_TODAY:
        return x->today;
    case I_CODE: {
        SlotValue s;
        return read_item(x, nd, &s) ? s.code : NO_CODE;
    }
    case C_IF: {
        int c = eval_bool(x, nd->a);
        if (c == T_TRUE) return eval_code(x, nd->b);
        if (c == T_FALSE) return eval_code(x, nd->c);
        int64_t a = eval_code(x, nd->b), b = eval_code(x, nd->c);
        return (a != NO_CODE && a == b) ? a : NO_CODE;
    }
    default:
        x->bail = 1;
        return NO_CODE;
    }
}

/* ------------------------------------------------------------------ truth values */

static inline int cmp_result(int op, int c) {
    switch (op) {
    case CMP_LT: return c < 0;
    case CMP_LE: return c <= 0;
    case CMP_GT: return c > 0;
    case CMP_GE: return c >= 0;
    case CMP_EQ: return c == 0;
    default: return c != 0;
    }
}

static int compare_numbers(Ctx *x, const Node *nd) {
    Num a = eval_num(x, nd->a), b = eval_num(x, nd->b);
    if (!a.known || !b.known) return T_UNKNOWN;
    if (!(a.exact && b.exact) && fabs(a.v - b.v) <= x->p->tie_tolerance * (mag(&a) + mag(&b))) {
        /* a possible tie: decide it exactly */
        Rat ra = eval_rat(x, nd->a), rb = eval_rat(x, nd->b);
        if (!ra.ok || !rb.ok || !ra.known || !rb.known) { x->bail = 1; return T_UNKNOWN; }
        return cmp_result(nd->c, rat_cmp(ra, rb));
    }
    return cmp_result(nd->c, (a.v > b.v) - (a.v < b.v));
}

static int eval_bool(Ctx *x, int32_t i) {
    const Node *nd = &x->p->nodes[i];
    switch (nd->op) {
    case B_LIT:
        return nd->a ? T_TRUE : T_FALSE;
    case B_FACT: {
        const SlotValue *s = &x->slots[nd->a];
        return s->known ? (int)s->code : T_UNKNOWN;
    }
    case B_DERIVED: {
        DerivedValue *dv = &x->derived[nd->a];
        if (!dv->state) {
            dv->state = 1;
            dv->tri = eval_bool(x, x->p->derived_roots[nd->a]);
        }
        return dv->tri;
    }
    case B_NOT: {
        int v = eval_bool(x, nd->a);
        return v == T_UNKNOWN ? T_UNKNOWN : !v;
    }
    case B_AND: case B_OR: {
        /* Kleene: one decisive operand settles it, else an unknown one makes it unknown */
        int decisive = nd->op == B_OR ? T_TRUE : T_FALSE, unknown = 0;
        const int32_t *k = x->p->kids + nd->a;
        for (int32_t j = 0; j < nd->b; j++) {
            int v = eval_bool(x, k[j]);
            if (v == decisive) return decisive;
            if (v == T_UNKNOWN) unknown = 1;
        }
        return unknown ? T_UNKNOWN : !decisive;
    }
    case B_CMP_NUM:
        return compare_numbers(x, nd);
    case B_CMP_CODE: {
        int64_t a = eval_code(x, nd->a), b = eval_code(x, nd->b);
        if (a == NO_CODE || b == NO_CODE) return T_UNKNOWN;
        return cmp_result(nd->c, (a > b) - (a < b));
    }
    case B_CMP_BOOL: {
        int a = eval_bool(x, nd->a), b = eval_bool(x, nd->b);
        if (a == T_UNKNOWN || b == T_UNKNOWN) return T_UNKNOWN;
        return cmp_result(nd->c, (a > b) - (a < b));
    }
    case B_MEMBER: {
        /* a: operand (a code); kids[b .. b+c) the options' codes; d != 0: negated */
        int64_t v = eval_code(x, nd->a);
        if (v == NO_CODE) return T_UNKNOWN;
        const int32_t *k = x->p->kids + nd->b;
        int found = 0;
        for (int32_t j = 0; j < nd->c; j++) {
            if ((int64_t)k[j] == v) { found = 1; break; }
        }
        return nd->d != 0.0 ? !found : found;
    }
    case B_KNOWN_FACT:
        return x->slots[nd->a].known ? T_TRUE : T_FALSE;
    case I_BOOL: {
        SlotValue s;
        return read_item(x, nd, &s) ? (int)s.code : T_UNKNOWN;
    }
    case B_KNOWN_ITEM: {
        SlotValue s;
        return read_item(x, nd, &s) ? T_TRUE : T_FALSE;
    }
    case Q_ANY: case Q_ALL: {
        /* Kleene or / and over the items */
        const SlotValue *s = &x->slots[nd->a];
        if (!s->known) return T_UNKNOWN;
        int decisive = nd->op == Q_ANY ? T_TRUE : T_FALSE, unknown = 0, result = -1;
        PyObject *saved = x->bound[nd->b];
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(s->list); j++) {
            x->bound[nd->b] = PyList_GET_ITEM(s->list, j);
            int v = eval_bool(x, nd->c);
            if (v == decisive) { result = decisive; break; }
            if (v == T_UNKNOWN) unknown = 1;
        }
        x->bound[nd->b] = saved;
        if (result >= 0) return result;
        return unknown ? T_UNKNOWN : !decisive;
    }
    case B_KNOWN_DERIVED: {
        /* a: the node reading the derived fact; b: its value kind (0 number, 1 truth value, 2 code) */
        int32_t root = nd->a;
        if (nd->b == 0) return eval_num(x, root).known ? T_TRUE : T_FALSE;
        if (nd->b == 1) return eval_bool(x, root) != T_UNKNOWN ? T_TRUE : T_FALSE;
        return eval_code(x, root) != NO_CODE ? T_TRUE : T_FALSE;
    }
    case B_IF: {
        int c = eval_bool(x, nd->a);
        if (c == T_TRUE) return eval_bool(x, nd->b);
        if (c == T_FALSE) return eval_bool(x, nd->c);
        int a = eval_bool(x, nd->b), b = eval_bool(x, nd->c);
        return (a != T_UNKNOWN && a == b) ? a : T_UNKNOWN;
    }
    default:
        x->bail = 1;
        return T_UNKNOWN;
    }
}

/* ------------------------------------------------------------------ loading a record's facts */

/* days since 0001-01-01 plus one, as Python's date.toordinal(); -1 when not a valid YYYY-MM-DD */
static int64_t date_ordinal(PyObject *value) {
    if (!PyUnicode_CheckExact(value) || PyUnicode_GET_LENGTH(value) != 10 || PyUnicode_KIND(value) != PyUnicode_1BYTE_KIND)
        return -1;
    const unsigned char *s = PyUnicode_1BYTE_DATA(value);
    for (int j = 0; j < 10; j++) {
        if (j == 4 || j == 7) { if (s[j] != '-') return -1; }
        else if (s[j] < '0' || s[j] > '9') return -1;
    }
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap)) return -1;
    int64_t yy = y - 1;
    int64_t days = yy * 365 + yy / 4 - yy / 100 + yy / 400;
    static const int before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    days += before[m - 1] + (m > 2 && leap) + d;
    return days;
}

static void keytable_free(KeyTable *t) {
    if (t->entries == NULL) return;
    for (size_t i = 0; i <= t->mask; i++) Py_XDECREF(t->entries[i].key);
    PyMem_Free(t->entries);
    t->entries = NULL;
}

/* Fills the table from (exact str name, index) pairs; returns -1 with an exception set on failure. */
static int keytable_add(KeyTable *t, PyObject *key, int32_t index) {
    if (!PyUnicode_CheckExact(key)) {
        PyErr_SetString(PyExc_TypeError, "names must be str");
        return -1;
    }
    Py_hash_t h = PyObject_Hash(key);
    if (h == -1) return -1;
    size_t i = (size_t)h & t->mask;
    while (t->entries[i].key != NULL) {
        if (PyUnicode_Compare(t->entries[i].key, key) == 0) {
            PyErr_SetString(PyExc_ValueError, "a name given twice");
            return -1;
        }
        i = (i + 1) & t->mask;
    }
    Py_INCREF(key);
    t->entries[i].key = key;
    t->entries[i].hash = h;
    t->entries[i].index = index;
    return 0;
}

static int keytable_init(KeyTable *t, Py_ssize_t n) {
    size_t size = 8;
    while (size < (size_t)n * 3) size <<= 1; /* at most a third full: short probes */
    t->entries = PyMem_Calloc(size, sizeof(KeyEntry));
    if (t->entries == NULL) { PyErr_NoMemory(); return -1; }
    t->mask = size - 1;
    return 0;
}

/* Two exact strs of equal hash hold the same text (names are short: compared inline). */
static inline int same_text(PyObject *a, PyObject *b) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    int kind = PyUnicode_KIND(a);
    if (n != PyUnicode_GET_LENGTH(b) || kind != PyUnicode_KIND(b)) return 0;
    const unsigned char *x = PyUnicode_DATA(a), *y = PyUnicode_DATA(b);
    size_t bytes = (size_t)n * kind;
    if (bytes > 32) return memcmp(x, y, bytes) == 0;
    for (size_t i = 0; i < bytes; i++)
        if (x[i] != y[i]) return 0;
    return 1;
}

/* The index of a name, or -1 when it is not in the table (or is not an exact str). */
static inline int32_t keytable_find(const KeyTable *t, PyObject *key) {
    if (!PyUnicode_CheckExact(key)) return -1;
    Py_hash_t h = ((PyASCIIObject *)key)->hash;
    if (h == -1) {
        h = PyObject_Hash(key);
        if (h == -1) { PyErr_Clear(); return -1; }
    }
    size_t i = (size_t)h & t->mask;
    for (;;) {
        const KeyEntry *e = &t->entries[i];
        if (e->key == NULL) return -1;
        if (e->key == key) return e->index;
        if (e->hash == h && same_text(e->key, key)) return e->index;
        i = (i + 1) & t->mask;
    }
}

/* 0 when every item has its key and no two keys are equal as a Python set would say (1 == 1.0);
 * 1 otherwise (the general path names the item), -1 on a Python error. The keys were checked
 * against their field's declaration (text, a number, a truth value), so hashing and comparing them
 * runs no Python code; the table is plain memory, so no garbage collection runs meanwhile. */
static int keys_distinct(PyObject *list, PyObject *key_name) {
    Py_ssize_t n = PyList_GET_SIZE(list);
    size_t size = 8;
    while (size < (size_t)n * 2) size <<= 1;
    struct { PyObject *key; Py_hash_t hash; } *table = PyMem_Calloc(size, sizeof *table);
    if (table == NULL) { PyErr_NoMemory(); return -1; }
    int status = 0;
    for (Py_ssize_t j = 0; j < n && status == 0; j++) {
        PyObject *key = PyDict_GetItemWithError(PyList_GET_ITEM(list, j), key_name);
        if (key == NULL || key == Py_None) { status = PyErr_Occurred() ? -1 : 1; break; }
        Py_hash_t h = PyObject_Hash(key);
        if (h == -1) { status = -1; break; }
        size_t i = (size_t)h & (size - 1);
        while (table[i].key != NULL) {
            if (table[i].hash == h) {
                int equal = PyObject_RichCompareBool(table[i].key, key, Py_EQ);
                if (equal != 0) { status = equal < 0 ? -1 : 1; break; } /* a duplicate item */
            }
            i = (i + 1) & (size - 1);
        }
        table[i].key = key;
        table[i].hash = h;
    }
    PyMem_Free(table);
    return status;
}

/* Whether text can be written as UTF-8: no lone surrogate (JSON may hold one, "\ud800"). */
static int text_is_unicode(PyObject *text) {
    if (PyUnicode_IS_ASCII(text)) return 1;
    int kind = PyUnicode_KIND(text);
    if (kind == PyUnicode_1BYTE_KIND) return 1;
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= 0xD800 && c <= 0xDFFF) return 0;
    }
    return 1;
}

/* 1 when a value is plainly what records.json_problems accepts: exact JSON types, Unicode text,
 * finite numbers well inside its limits, shallow nesting. 0 declines the record to the general path,
 * which names the problem or accepts it: anything near a limit is declined, never decided here. */
static int json_plain(PyObject *v, int depth) {
    if (v == Py_None || v == Py_True || v == Py_False) return 1;
    if (PyUnicode_CheckExact(v)) return text_is_unicode(v);
    if (PyLong_CheckExact(v)) {
        int overflow = 0;
        (void)PyLong_AsLongLongAndOverflow(v, &overflow);
        return !overflow;
    }
    if (PyFloat_CheckExact(v)) {
        double d = PyFloat_AS_DOUBLE(v);
        return isfinite(d) && fabs(d) < 1e99;
    }
    if (depth >= 16) return 0;
    if (PyList_CheckExact(v)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); i++)
            if (!json_plain(PyList_GET_ITEM(v, i), depth + 1)) return 0;
        return 1;
    }
    if (PyDict_CheckExact(v)) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(v, &pos, &key, &value))
            if (!PyUnicode_CheckExact(key) || !text_is_unicode(key) || !json_plain(value, depth + 1)) return 0;
        return 1;
    }
    return 0;
}

/* Checks one recorded value against its declaration and stores it in *s (known = 1).
 * Returns 0 when accepted, 1 when the record must take the general path, -1 on a Python error.
 * Null is "not recorded" and is left to the caller. */
static int load_value(const SlotSpec *spec, PyObject *value, SlotValue *s) {
    switch (spec->kind) {
    case K_NUM: {
        double v;
        if (PyLong_CheckExact(value)) {
            int overflow = 0;
            long long n = PyLong_AsLongLongAndOverflow(value, &overflow);
            if (overflow || n <= -9007199254740992LL || n >= 9007199254740992LL) return 1;
            v = (double)n;
            s->integral = 1;
        } else if (PyFloat_CheckExact(value)) {
            v = PyFloat_AS_DOUBLE(value);
            if (!(v > -FAST_NUMBER_LIMIT && v < FAST_NUMBER_LIMIT)) return 1; /* also NaN */
            s->integral = floor(v) == v;
            if ((spec->flags & SF_INTEGER) && !s->integral) return 1;
        } else {
            return 1;
        }
        if ((spec->flags & SF_LO) && v < spec->lo) return 1;
        if ((spec->flags & SF_HI) && v > spec->hi) return 1;
        s->num = v;
        break;
    }
    case K_BOOL:
        if (value == Py_True) s->code = T_TRUE;
        else if (value == Py_False) s->code = T_FALSE;
        else return 1;
        break;
    case K_ENUM: {
        if (!PyUnicode_CheckExact(value)) return 1;
        PyObject *code = PyDict_GetItemWithError(spec->codes, value);
        if (code == NULL) return PyErr_Occurred() ? -1 : 1;
        s->code = PyLong_AsLongLong(code);
        break;
    }
    case K_DATE: {
        int64_t ord = date_ordinal(value);
        if (ord < 0) return 1;
        s->code = ord;
        break;
    }
    case K_IGNORE: /* text not read by these rules: only its type and encoding are checked */
        if (!PyUnicode_CheckExact(value) || !text_is_unicode(value)) return 1;
        break;
    case K_LIST: {
        /* a list of objects whose fields are declared and valid, each named by a distinct key */
        if (!PyList_CheckExact(value) || PyList_GET_SIZE(value) > MAX_LIST_ITEMS) return 1;
        Py_ssize_t n = PyList_GET_SIZE(value);
        int status = 0;
        for (Py_ssize_t j = 0; j < n && status == 0; j++) {
            PyObject *item = PyList_GET_ITEM(value, j);
            if (!PyDict_CheckExact(item)) { status = 1; break; }
            Py_ssize_t pos = 0;
            PyObject *fname, *fvalue;
            while (status == 0 && PyDict_Next(item, &pos, &fname, &fvalue)) {
                int32_t index = keytable_find(&spec->field_index, fname);
                if (index < 0) { status = 1; break; } /* an unknown field: the general path names it */
                if (fvalue == Py_None) continue;
                SlotValue scratch;
                memset(&scratch, 0, sizeof scratch);
                status = load_value(&spec->fields[index], fvalue, &scratch);
            }
        }
        if (status == 0 && n > 0) status = keys_distinct(value, PyTuple_GET_ITEM(spec->field_names, spec->key_field));
        if (status) return status;
        s->list = value;
        break;
    }
    default: /* other kinds are for the general path */
        return 1;
    }
    s->known = 1;
    return 0;
}

/* Returns 0 when accepted, 1 when the record must take the general path, -1 on a Python error. */
static int load_facts(const Program *p, SlotValue *slots, PyObject *facts) {
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(facts, &pos, &key, &value)) {
        int32_t k = keytable_find(&p->slot_index, key);
        if (k < 0) return 1; /* an unknown fact: the general path names it */
        SlotValue *s = &slots[k];
        if (s->seen) return 1; /* given both as a site attribute and as a fact */
        s->seen = 1;
        if (value == Py_None) continue; /* recorded as null: not recorded */
        int status = load_value(&p->slots[k], value, s);
        if (status) return status;
    }
    return 0;
}

/* The field of the item bound to a variable, as a slot value; 0 when not recorded (or on a fault,
 * with bail set). */
static int read_item(Ctx *x, const Node *nd, SlotValue *out) {
    PyObject *item = x->bound[nd->a];
    memset(out, 0, sizeof *out);
    if (item == NULL) { x->bail = 1; return 0; }
    const SlotSpec *list = &x->p->slots[nd->b];
    PyObject *value = PyDict_GetItemWithError(item, PyTuple_GET_ITEM(list->field_names, nd->c));
    if (value == NULL) {
        if (PyErr_Occurred()) { PyErr_Clear(); x->bail = 1; }
        return 0;
    }
    if (value == Py_None) return 0;
    if (load_value(&list->fields[nd->c], value, out) != 0) {
        PyErr_Clear();
        x->bail = 1;
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ Program */

static void free_spec(SlotSpec *s) {
    Py_CLEAR(s->codes);
    Py_CLEAR(s->field_names);
    keytable_free(&s->field_index);
    if (s->fields) {
        for (Py_ssize_t j = 0; j < s->n_fields; j++) free_spec(&s->fields[j]);
        PyMem_Free(s->fields);
        s->fields = NULL;
    }
}

static void Program_dealloc(Program *self) {
    if (self->slots) {
        for (Py_ssize_t i = 0; i < self->n_slots; i++) free_spec(&self->slots[i]);
    }
    keytable_free(&self->slot_index);
    PyMem_Free(self->slots);
    PyMem_Free(self->nodes);
    PyMem_Free(self->kids);
    PyMem_Free(self->derived_roots);
    PyMem_Free(self->module_scope);
    PyMem_Free(self->module_first);
    PyMem_Free(self->module_count);
    PyMem_Free(self->rule_applies);
    PyMem_Free(self->rule_when);
    PyMem_Free(self->rule_list);
    PyMem_Free(self->rule_var);
    PyMem_Free(self->rule_applies_global);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int32_t *int_array(PyObject *seq, Py_ssize_t *n, const char *what) {
    PyObject *fast = PySequence_Fast(seq, what);
    if (fast == NULL) return NULL;
    *n = PySequence_Fast_GET_SIZE(fast);
    int32_t *out = PyMem_Calloc(*n ? *n : 1, sizeof(int32_t));
    if (out == NULL) { Py_DECREF(fast); PyErr_NoMemory(); return NULL; }
    for (Py_ssize_t i = 0; i < *n; i++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(fast, i));
        if (v == -1 && PyErr_Occurred()) { PyMem_Free(out); Py_DECREF(fast); return NULL; }
        out[i] = (int32_t)v;
    }
    Py_DECREF(fast);
    return out;
}

/* Columns of a list of equal-length int tuples: columns[k][i] = rows[i][k]. */
static int int_columns(PyObject *rows, int width, int32_t **columns, Py_ssize_t *n, const char *what) {
    PyObject *fast = PySequence_Fast(rows, what);
    if (fast == NULL) return -1;
    *n = PySequence_Fast_GET_SIZE(fast);
    for (int k = 0; k < width; k++) {
        columns[k] = PyMem_Calloc(*n ? *n : 1, sizeof(int32_t));
        if (columns[k] == NULL) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    }
    for (Py_ssize_t i = 0; i < *n; i++) {
        PyObject *row = PySequence_Fast_GET_ITEM(fast, i);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != width) {
            Py_DECREF(fast);
            PyErr_Format(PyExc_ValueError, "%s: rows of %d integers expected", what, width);
            return -1;
        }
        for (int k = 0; k < width; k++) {
            long v = PyLong_AsLong(PyTuple_GET_ITEM(row, k));
            if (v == -1 && PyErr_Occurred()) { Py_DECREF(fast); return -1; }
            columns[k][i] = (int32_t)v;
        }
    }
    Py_DECREF(fast);
    return 0;
}

static int check_index(int32_t v, Py_ssize_t limit, int allow_none, const char *what) {
    if ((allow_none && v == -1) || (v >= 0 && v < limit)) return 0;
    PyErr_Format(PyExc_ValueError, "%s index %d out of range", what, (int)v);
    return -1;
}

/* (kind, flags, lo, hi, codes-or-None[, (field names, field specs, key index)-or-None]) */
static int parse_spec(SlotSpec *s, PyObject *row, int allow_list) {
    PyObject *codes, *list = Py_None;
    if (!PyArg_ParseTuple(row, "iiddO|O", &s->kind, &s->flags, &s->lo, &s->hi, &codes, &list)) return -1;
    if (s->kind == K_ENUM) {
        if (!PyDict_Check(codes)) { PyErr_SetString(PyExc_TypeError, "an enum slot needs a dict of codes"); return -1; }
        if ((s->codes = PyDict_Copy(codes)) == NULL) return -1;
    }
    if (s->kind != K_LIST) return 0;
    if (!allow_list) { PyErr_SetString(PyExc_ValueError, "a list inside a list item"); return -1; }
    PyObject *names, *specs;
    Py_ssize_t key;
    if (!PyArg_ParseTuple(list, "O!On", &PyTuple_Type, &names, &specs, &key)) return -1;
    s->n_fields = PyTuple_GET_SIZE(names);
    if (key < 0 || key >= s->n_fields) { PyErr_SetString(PyExc_ValueError, "key field out of range"); return -1; }
    s->key_field = key;
    Py_INCREF(names);
    s->field_names = names;
    if (keytable_init(&s->field_index, s->n_fields) < 0) return -1;
    for (Py_ssize_t j = 0; j < s->n_fields; j++)
        if (keytable_add(&s->field_index, PyTuple_GET_ITEM(names, j), (int32_t)j) < 0) return -1;
    PyObject *fast = PySequence_Fast(specs, "field specs must be a sequence");
    if (fast == NULL) return -1;
    if (PySequence_Fast_GET_SIZE(fast) != s->n_fields) {
        Py_DECREF(fast);
        PyErr_SetString(PyExc_ValueError, "one spec per field");
        return -1;
    }
    s->fields = PyMem_Calloc(s->n_fields ? s->n_fields : 1, sizeof(SlotSpec));
    if (s->fields == NULL) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    for (Py_ssize_t j = 0; j < s->n_fields; j++) {
        if (parse_spec(&s->fields[j], PySequence_Fast_GET_ITEM(fast, j), 0) < 0) { Py_DECREF(fast); return -1; }
    }
    Py_DECREF(fast);
    return 0;
}

static int is_list_slot(const Program *self, int32_t slot) {
    return slot >= 0 && slot < self->n_slots && self->slots[slot].kind == K_LIST;
}

/* Program(slotmap, slots, nodes, kids, derived_roots, modules, rules, tie_tolerance)
 * slots: [(kind, flags, lo, hi, codes-or-None[, list fields])]; nodes: [(op, a, b, c, d, num, den, exact)];
 * modules: [(scope node or -1, first rule, rule count)];
 * rules: [(applies_if node or -1, when node, list slot or -1, variable, applies_if decidable without an item)] */
static int Program_init(Program *self, PyObject *args, PyObject *kwds) {
    (void)kwds;
    PyObject *slotmap, *slots, *nodes, *kids, *droots, *modules, *rules;
    double tol;
    if (!PyArg_ParseTuple(args, "O!OOOOOOd", &PyDict_Type, &slotmap, &slots, &nodes, &kids, &droots, &modules, &rules, &tol))
        return -1;
    if (self->slot_index.entries != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a Program is initialised once");
        return -1;
    }
    self->tie_tolerance = tol;

    PyObject *fast = PySequence_Fast(slots, "slots must be a sequence");
    if (fast == NULL) return -1;
    self->n_slots = PySequence_Fast_GET_SIZE(fast);
    self->slots = PyMem_Calloc(self->n_slots ? self->n_slots : 1, sizeof(SlotSpec));
    if (self->slots == NULL) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    for (Py_ssize_t i = 0; i < self->n_slots; i++) {
        if (parse_spec(&self->slots[i], PySequence_Fast_GET_ITEM(fast, i), 1) < 0) {
            Py_DECREF(fast);
            return -1;
        }
        if (self->slots[i].kind == K_LIST) self->has_lists = 1;
    }
    Py_DECREF(fast);
    /* the program keeps its own table: the caller's dict may change afterwards, the program may not */
    if (keytable_init(&self->slot_index, PyDict_GET_SIZE(slotmap)) < 0) return -1;
    {
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(slotmap, &pos, &k, &v)) {
            Py_ssize_t idx = PyLong_AsSsize_t(v);
            if (idx == -1 && PyErr_Occurred()) return -1;
            if (idx < 0 || idx >= self->n_slots) { PyErr_SetString(PyExc_ValueError, "slot index out of range"); return -1; }
            if (keytable_add(&self->slot_index, k, (int32_t)idx) < 0) return -1;
        }
    }

    fast = PySequence_Fast(nodes, "nodes must be a sequence");
    if (fast == NULL) return -1;
    self->n_nodes = PySequence_Fast_GET_SIZE(fast);
    self->nodes = PyMem_Calloc(self->n_nodes ? self->n_nodes : 1, sizeof(Node));
    if (self->nodes == NULL) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    for (Py_ssize_t i = 0; i < self->n_nodes; i++) {
        Node *nd = &self->nodes[i];
        long long num, den;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "iiiidLLi", &nd->op, &nd->a, &nd->b, &nd->c, &nd->d,
                              &num, &den, &nd->exact)) {
            Py_DECREF(fast);
            return -1;
        }
        nd->num = num;
        nd->den = den;
    }
    Py_DECREF(fast);

    if (!(self->kids = int_array(kids, &self->n_kids, "kids must be a sequence"))) return -1;
    if (!(self->derived_roots = int_array(droots, &self->n_derived, "derived roots must be a sequence"))) return -1;
    int32_t *mcols[3], *rcols[5];
    if (int_columns(modules, 3, mcols, &self->n_modules, "modules") < 0) return -1;
    self->module_scope = mcols[0];
    self->module_first = mcols[1];
    self->module_count = mcols[2];
    if (int_columns(rules, 5, rcols, &self->n_rules, "rules") < 0) return -1;
    self->rule_applies = rcols[0];
    self->rule_when = rcols[1];
    self->rule_list = rcols[2];
    self->rule_var = rcols[3];
    self->rule_applies_global = rcols[4];

    /* Validate every index once, so that run() never reads out of bounds, and require every node
     * (and every derived fact's expression) to come before the nodes that use it: no cycles, and
     * recursion as deep as the expression only. */
    for (Py_ssize_t i = 0; i < self->n_nodes; i++) {
        Node *nd = &self->nodes[i];
        int32_t refs[3];
        int n_refs = 0;
        switch (nd->op) {
        case N_LIT: case B_LIT: case C_LIT: case C_TODAY: break;
        case N_FACT: case B_FACT: case C_FACT: case B_KNOWN_FACT:
            if (check_index(nd->a, self->n_slots, 0, "slot")) return -1;
            if (self->slots[nd->a].kind == K_LIST) { PyErr_SetString(PyExc_ValueError, "a list read as a value"); return -1; }
            break;
        case I_NUM: case I_BOOL: case I_CODE: case B_KNOWN_ITEM:
            if (check_index(nd->a, MAX_VARS, 0, "variable")) return -1;
            if (!is_list_slot(self, nd->b)) { PyErr_SetString(PyExc_ValueError, "an item field of a slot that is not a list"); return -1; }
            if (check_index(nd->c, self->slots[nd->b].n_fields, 0, "field")) return -1;
            break;
        case Q_ANY: case Q_ALL: case Q_COUNT:
            if (!is_list_slot(self, nd->a)) { PyErr_SetString(PyExc_ValueError, "a quantifier over a slot that is not a list"); return -1; }
            if (check_index(nd->b, MAX_VARS, 0, "variable")) return -1;
            if (nd->op != Q_COUNT || nd->c != -1) refs[n_refs++] = nd->c;
            break;
        case N_DERIVED: case B_DERIVED: case C_DERIVED:
            if (check_index(nd->a, self->n_derived, 0, "derived")) return -1;
            refs[n_refs++] = self->derived_roots[nd->a];
            break;
        case B_KNOWN_DERIVED: case N_NEG: case B_NOT: CASE_FUNCTIONS_OF_1
            refs[n_refs++] = nd->a;
            break;
        case N_ADD: case N_SUB: case N_MUL: case N_DIV: CASE_FUNCTIONS_OF_2
        case B_CMP_NUM: case B_CMP_CODE: case B_CMP_BOOL:
            refs[n_refs++] = nd->a;
            refs[n_refs++] = nd->b;
            break;
        case N_IF: case B_IF: case C_IF: CASE_FUNCTIONS_OF_3
            refs[n_refs++] = nd->a;
            refs[n_refs++] = nd->b;
            refs[n_refs++] = nd->c;
            break;
        case B_AND: case B_OR:
            if (nd->a < 0 || nd->b < 0 || nd->a + nd->b > self->n_kids) {
                PyErr_SetString(PyExc_ValueError, "operand list out of range");
                return -1;
            }
            for (int32_t j = 0; j < nd->b; j++)
                if (self->kids[nd->a + j] < 0 || self->kids[nd->a + j] >= i) {
                    PyErr_SetString(PyExc_ValueError, "an operand is not an earlier node");
                    return -1;
                }
            break;
        case B_MEMBER:
            refs[n_refs++] = nd->a;
            if (nd->b < 0 || nd->c < 0 || nd->b + nd->c > self->n_kids) {
                PyErr_SetString(PyExc_ValueError, "option list out of range");
                return -1;
            }
            break;
        default:
            PyErr_Format(PyExc_ValueError, "unknown opcode %d", (int)nd->op);
            return -1;
        }
        for (int j = 0; j < n_refs; j++)
            if (refs[j] < 0 || refs[j] >= i) {
                PyErr_SetString(PyExc_ValueError, "a node refers to a node that is not before it");
                return -1;
            }
    }
    for (Py_ssize_t i = 0; i < self->n_derived; i++)
        if (check_index(self->derived_roots[i], self->n_nodes, 0, "derived root")) return -1;
    for (Py_ssize_t i = 0; i < self->n_modules; i++) {
        if (check_index(self->module_scope[i], self->n_nodes, 1, "scope")) return -1;
        if (self->module_first[i] < 0 || self->module_count[i] < 0 || self->module_first[i] + self->module_count[i] > self->n_rules) {
            PyErr_SetString(PyExc_ValueError, "module rule range out of range");
            return -1;
        }
    }
    for (Py_ssize_t i = 0; i < self->n_rules; i++) {
        if (check_index(self->rule_applies[i], self->n_nodes, 1, "applies_if")) return -1;
        if (check_index(self->rule_when[i], self->n_nodes, 0, "when")) return -1;
        if (self->rule_list[i] != -1) {
            if (!is_list_slot(self, self->rule_list[i])) { PyErr_SetString(PyExc_ValueError, "a rule over a slot that is not a list"); return -1; }
            if (check_index(self->rule_var[i], MAX_VARS, 0, "variable")) return -1;
        }
    }
    return 0;
}

#define STACK_SLOTS 256
#define STACK_DERIVED 64

/* One rule for the current item bindings, as the interpreter's _decide. */
static int decide_once(Ctx *x, Py_ssize_t r) {
    const Program *p = x->p;
    int32_t applies = p->rule_applies[r];
    if (applies >= 0) {
        int a = eval_bool(x, applies);
        if (a == T_FALSE) return O_NOT_APPLICABLE;
        if (a == T_UNKNOWN) {
            /* whether or not it applies, a hazard that is absent is absent */
            return eval_bool(x, p->rule_when[r]) == T_FALSE ? O_NOT_MATCHED : O_UNDETERMINED;
        }
    }
    int w = eval_bool(x, p->rule_when[r]);
    return w == T_TRUE ? O_MATCHED : (w == T_FALSE ? O_NOT_MATCHED : O_UNDETERMINED);
}

/* A rule, over each item of its list when it has one (as the interpreter's rule()). */
static int decide_rule(Ctx *x, Py_ssize_t r) {
    const Program *p = x->p;
    int32_t slot = p->rule_list[r];
    if (slot < 0) return decide_once(x, r);
    const SlotValue *s = &x->slots[slot];
    if (!s->known) {
        if (p->rule_applies[r] >= 0 && p->rule_applies_global[r]) {
            int a = eval_bool(x, p->rule_applies[r]);
            if (a == T_FALSE) return O_NOT_APPLICABLE;
        }
        return O_UNDETERMINED;
    }
    int32_t var = p->rule_var[r];
    PyObject *saved = x->bound[var];
    int matched = 0, undetermined = 0, applicable = 0;
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(s->list); j++) {
        x->bound[var] = PyList_GET_ITEM(s->list, j);
        int o = decide_once(x, r);
        if (o != O_NOT_APPLICABLE) applicable++;
        if (o == O_MATCHED) matched++;
        else if (o == O_UNDETERMINED) undetermined++;
    }
    x->bound[var] = saved;
    if (matched) return O_MATCHED;
    if (undetermined) return O_UNDETERMINED;
    return applicable ? O_NOT_MATCHED : O_NOT_APPLICABLE;
}

/* run(facts, attributes, today) -> bytes (scopes, then outcomes) or None for the general path */
/* The outcome bytes for one record's facts and site attributes (a dict or None), or None when the
 * record must take the general path; NULL with an exception on a Python error. */
static PyObject *item_positions(Ctx *x, PyObject *rules);

/* The outcome bytes for one record's facts and site attributes (a dict or None), or None when the
 * record must take the general path; NULL with an exception on a Python error. With `item_rules`
 * (a tuple of rule indices), instead: {rule: (matched item positions, undetermined ones)} for those
 * of them that are over a recorded list. */
static PyObject *run_program(Program *self, PyObject *facts, PyObject *attributes, long long today, PyObject *item_rules) {
    if (!PyDict_Check(facts) || (attributes != Py_None && !PyDict_Check(attributes))) Py_RETURN_NONE;

    SlotValue stack_slots[STACK_SLOTS];
    DerivedValue stack_derived[STACK_DERIVED];
    SlotValue *slots = stack_slots;
    DerivedValue *derived = stack_derived;
    if (self->n_slots > STACK_SLOTS) {
        slots = PyMem_Malloc(self->n_slots * sizeof(SlotValue));
        if (slots == NULL) return PyErr_NoMemory();
    }
    if (self->n_derived > STACK_DERIVED) {
        derived = PyMem_Malloc(self->n_derived * sizeof(DerivedValue));
        if (derived == NULL) {
            if (slots != stack_slots) PyMem_Free(slots);
            return PyErr_NoMemory();
        }
    }
    memset(slots, 0, (self->n_slots ? self->n_slots : 1) * sizeof(SlotValue));
    memset(derived, 0, (self->n_derived ? self->n_derived : 1) * sizeof(DerivedValue));

    PyObject *result = NULL;
    int status = load_facts(self, slots, facts);
    if (status == 0 && attributes != Py_None) status = load_facts(self, slots, attributes);
    if (status < 0) goto done;
    if (status > 0) { result = Py_NewRef(Py_None); goto done; }
    if (item_rules != NULL) {
        Ctx x = {self, slots, derived, (int64_t)today, 0, {NULL}};
        result = item_positions(&x, item_rules);
        goto done;
    }

    result = PyBytes_FromStringAndSize(NULL, self->n_modules + self->n_rules);
    if (result == NULL) goto done;
    {
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
        unsigned char *outcomes = out + self->n_modules;
        Ctx x = {self, slots, derived, (int64_t)today, 0, {NULL}};
        for (Py_ssize_t m = 0; m < self->n_modules; m++) {
            int scope = self->module_scope[m] < 0 ? T_TRUE : eval_bool(&x, self->module_scope[m]);
            out[m] = (unsigned char)scope;
            int32_t first = self->module_first[m], end = first + self->module_count[m];
            for (int32_t r = first; r < end; r++) {
                if (scope == T_FALSE) { outcomes[r] = O_NOT_APPLICABLE; continue; }
                int o = decide_rule(&x, r);
                if (scope == T_UNKNOWN && o == O_MATCHED) o = O_UNDETERMINED;
                outcomes[r] = (unsigned char)o;
            }
        }
        if (x.bail) {
            Py_DECREF(result);
            result = Py_NewRef(Py_None);
        }
    }
done:
    if (slots != stack_slots) PyMem_Free(slots);
    if (derived != stack_derived) PyMem_Free(derived);
    return result;
}

static PyObject *item_positions(Ctx *x, PyObject *rules) {
    const Program *p = x->p;
    if (!PyTuple_Check(rules)) {
        PyErr_SetString(PyExc_TypeError, "rules must be a tuple of rule indices");
        return NULL;
    }
    PyObject *out = PyDict_New();
    if (out == NULL) return NULL;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(rules); k++) {
        Py_ssize_t r = PyLong_AsSsize_t(PyTuple_GET_ITEM(rules, k));
        if (r == -1 && PyErr_Occurred()) goto fail;
        if (r < 0 || r >= p->n_rules) { PyErr_SetString(PyExc_ValueError, "rule index out of range"); goto fail; }
        int32_t slot = p->rule_list[r];
        if (slot < 0 || !x->slots[slot].known) continue;
        PyObject *list = x->slots[slot].list;
        Py_ssize_t n = PyList_GET_SIZE(list), n_matched = 0, n_unknown = 0;
        Py_ssize_t *matched = PyMem_Malloc((n ? n : 1) * sizeof(Py_ssize_t)), *unknown = PyMem_Malloc((n ? n : 1) * sizeof(Py_ssize_t));
        if (matched == NULL || unknown == NULL) { PyMem_Free(matched); PyMem_Free(unknown); PyErr_NoMemory(); goto fail; }
        int32_t var = p->rule_var[r];
        for (Py_ssize_t j = 0; j < n; j++) {
            x->bound[var] = PyList_GET_ITEM(list, j);
            int o = decide_once(x, r);
            if (o == O_MATCHED) matched[n_matched++] = j;
            else if (o == O_UNDETERMINED) unknown[n_unknown++] = j;
        }
        x->bound[var] = NULL;
        /* Python objects only after the items are decided */
        PyObject *a = PyTuple_New(n_matched), *b = PyTuple_New(n_unknown), *key = PyLong_FromSsize_t(r), *pair = NULL;
        for (Py_ssize_t j = 0; a && j < n_matched; j++) PyTuple_SET_ITEM(a, j, PyLong_FromSsize_t(matched[j]));
        for (Py_ssize_t j = 0; b && j < n_unknown; j++) PyTuple_SET_ITEM(b, j, PyLong_FromSsize_t(unknown[j]));
        PyMem_Free(matched);
        PyMem_Free(unknown);
        if (a && b && key) pair = PyTuple_Pack(2, a, b);
        int bad = pair == NULL || PyDict_SetItem(out, key, pair) < 0;
        Py_XDECREF(a);
        Py_XDECREF(b);
        Py_XDECREF(key);
        Py_XDECREF(pair);
        if (bad) goto fail;
    }
    if (x->bail) {
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static PyObject *Program_run(Program *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "run(facts, attributes, today)");
        return NULL;
    }
    long long today = PyLong_AsLongLong(args[2]);
    if (today == -1 && PyErr_Occurred()) return NULL;
    return run_program(self, args[0], args[1], today, NULL);
}

static PyObject *Program_items(Program *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "items(facts, attributes, today, rules)");
        return NULL;
    }
    long long today = PyLong_AsLongLong(args[2]);
    if (today == -1 && PyErr_Occurred()) return NULL;
    return run_program(self, args[0], args[1], today, args[3]);
}

static PyObject *Program_date_ordinal(PyObject *cls, PyObject *value) {
    (void)cls;
    int64_t ord = date_ordinal(value);
    if (ord < 0) Py_RETURN_NONE;
    return PyLong_FromLongLong(ord);
}

static PyObject *Program_rational(PyObject *cls, PyObject *value) {
    (void)cls;
    double v = PyFloat_AsDouble(value);
    if (v == -1.0 && PyErr_Occurred()) return NULL;
    Rat r = rat_of_double(v, floor(v) == v && fabs(v) < FAST_NUMBER_LIMIT);
    if (!r.ok) Py_RETURN_NONE;
    return Py_BuildValue("LL", (long long)r.n, (long long)r.d);
}

static PyMethodDef Program_methods[] = {
    {"run", (PyCFunction)(void (*)(void))Program_run, METH_FASTCALL,
     "run(facts, attributes, today) -> bytes of module scopes then rule outcomes, or None for the general path"},
    {"items", (PyCFunction)(void (*)(void))Program_items, METH_FASTCALL,
     "items(facts, attributes, today, rules) -> {rule: (matched item positions, undetermined ones)} for the rules over a recorded list"},
    {"date_ordinal", (PyCFunction)Program_date_ordinal, METH_O | METH_STATIC,
     "The ordinal of a YYYY-MM-DD text as the evaluator reads it (None when invalid); for tests."},
    {"rational", (PyCFunction)Program_rational, METH_O | METH_STATIC,
     "(numerator, denominator) of a float's shortest decimal, as ties are decided (None on overflow); for tests."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ProgramType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "safetyrules._evaluator.Program",
    .tp_doc = "A lowered rule program (see safetyrules/backends/compiled.py).",
    .tp_basicsize = sizeof(Program),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Program_init,
    .tp_dealloc = (destructor)Program_dealloc,
    .tp_methods = Program_methods,
};


/* ------------------------------------------------------------------ Lane: one call per record */

/* The envelope of a record (its keys and their types), the plan chosen by (industry, region, date,
 * as_of, jurisdiction), the program run, and a copy of what was decided -- for the common record,
 * in one call. Plans are made in Python (choosing module versions is not this file's business):
 * on a plan not yet made, run() asks the Python lane to make it (add_plan) and looks again. A plan is None (such records take the general path) or a tuple
 * (program, today, day, as_of, notices, engine, layout). What was decided is returned as data, a
 * tuple (head, layout, outcome bytes, snapshot of the record), from which the report is built in
 * Python (safetyrules/evaluation.py), as every backend's is. */
typedef struct {
    PyObject_HEAD
    PyObject *plans;  /* dict key -> plan (owned, shared with the Python side) */
    PyObject *owner;  /* the Python lane, whose add_plan(record, as_of, jurisdiction) makes a missing plan (owned) */
    PyObject *backend; /* the backend name written in reports (owned) */
    PyObject *statuses; /* the report statuses: no applicable criteria, major hazard found, undetermined, no major hazard found (owned tuple) */
    PyObject *k_add_plan;
    KeyTable record_keys, site_keys;
    PyObject *k_record_id, *k_inspection_date, *k_site, *k_facts, *k_findings, *k_industry, *k_region, *k_attributes;
} Lane;

static void Lane_dealloc(Lane *self) {
    Py_XDECREF(self->plans);
    Py_XDECREF(self->owner);
    Py_XDECREF(self->backend);
    Py_XDECREF(self->statuses);
    Py_XDECREF(self->k_add_plan);
    keytable_free(&self->record_keys);
    keytable_free(&self->site_keys);
    Py_XDECREF(self->k_record_id);
    Py_XDECREF(self->k_inspection_date);
    Py_XDECREF(self->k_site);
    Py_XDECREF(self->k_facts);
    Py_XDECREF(self->k_findings);
    Py_XDECREF(self->k_industry);
    Py_XDECREF(self->k_region);
    Py_XDECREF(self->k_attributes);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int names_table(KeyTable *t, PyObject *names) {
    PyObject *fast = PySequence_Fast(names, "names must be a sequence");
    if (fast == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (keytable_init(t, n) < 0) { Py_DECREF(fast); return -1; }
    for (Py_ssize_t i = 0; i < n; i++)
        if (keytable_add(t, PySequence_Fast_GET_ITEM(fast, i), (int32_t)i) < 0) { Py_DECREF(fast); return -1; }
    Py_DECREF(fast);
    return 0;
}

/* Lane(plans, owner, backend, record_keys, site_keys, statuses) */
static int Lane_init(Lane *self, PyObject *args, PyObject *kwds) {
    (void)kwds;
    PyObject *plans, *owner, *backend, *record_keys, *site_keys, *statuses;
    if (!PyArg_ParseTuple(args, "O!OO!OOO!", &PyDict_Type, &plans, &owner, &PyUnicode_Type, &backend, &record_keys,
                          &site_keys, &PyTuple_Type, &statuses))
        return -1;
    if (PyTuple_GET_SIZE(statuses) != 4) {
        PyErr_SetString(PyExc_ValueError, "four statuses");
        return -1;
    }
    if (self->plans != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a Lane is initialised once");
        return -1;
    }
    self->statuses = Py_NewRef(statuses);
    self->plans = Py_NewRef(plans);
    self->owner = Py_NewRef(owner);
    self->backend = Py_NewRef(backend);
    if (names_table(&self->record_keys, record_keys) < 0 || names_table(&self->site_keys, site_keys) < 0) return -1;
#define NAME(field, text) if ((self->field = PyUnicode_InternFromString(text)) == NULL) return -1;
    NAME(k_record_id, "record_id")
    NAME(k_inspection_date, "inspection_date")
    NAME(k_site, "site")
    NAME(k_facts, "facts")
    NAME(k_findings, "findings")
    NAME(k_industry, "industry")
    NAME(k_region, "region")
    NAME(k_attributes, "attributes")
    NAME(k_add_plan, "add_plan")
#undef NAME
    return 0;
}

/* Every key of d is in t. */
static int keys_known(PyObject *d, const KeyTable *t) {
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v))
        if (keytable_find(t, k) < 0) return 0;
    return 1;
}

/* d[key], borrowed, or NULL when absent (never an error for an exact dict and a str key). */
static inline PyObject *get(PyObject *d, PyObject *key) {
    PyObject *v = PyDict_GetItemWithError(d, key);
    if (v == NULL) PyErr_Clear();
    return v;
}

/* A falsy value of the kinds a JSON document has (None, false, 0, "", [], {}); other objects: -1. */
static int json_falsy(PyObject *v) {
    if (v == Py_None || v == Py_False) return 1;
    if (PyLong_CheckExact(v) || PyFloat_CheckExact(v) || PyUnicode_CheckExact(v) || PyList_CheckExact(v)
        || PyDict_CheckExact(v) || v == Py_True)
        return !PyObject_IsTrue(v);
    return -1;
}

static PyObject *lane_decide(Lane *self, PyObject *raw, PyObject *site, PyObject *record_id, PyObject *facts,
                             PyObject *attributes, PyObject *industry, PyObject *region, PyObject *day,
                             PyObject *as_of_arg, PyObject *jurisdiction);

/* A copy of a record's facts that the caller cannot change: lists of items are copied with their
 * items (the other values are immutable). The copy is walked, not the caller's dict, and each list
 * is copied whole before its items: allocating may run other threads, which may change the record. */
static PyObject *copy_facts(PyObject *facts) {
    PyObject *copy = PyDict_Copy(facts);
    if (copy == NULL) return NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(copy, &pos, &key, &value)) {
        if (!PyList_CheckExact(value)) continue;
        PyObject *items = PyList_GetSlice(value, 0, PY_SSIZE_T_MAX);
        if (items == NULL) { Py_DECREF(copy); return NULL; }
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(items); j++) {
            PyObject *item = PyList_GET_ITEM(items, j);
            PyObject *item_copy = PyDict_Check(item) ? PyDict_Copy(item) : Py_NewRef(item);
            if (item_copy == NULL) { Py_DECREF(items); Py_DECREF(copy); return NULL; }
            PyList_SET_ITEM(items, j, item_copy); /* steals item_copy, releases the list's ref to item */
            Py_DECREF(item);
        }
        /* replacing the value of a key already there keeps the walk valid */
        int bad = PyDict_SetItem(copy, key, items) < 0;
        Py_DECREF(items);
        if (bad) { Py_DECREF(copy); return NULL; }
    }
    return copy;
}

static PyObject *lane_run_plan(Lane *self, PyObject *raw, PyObject *site, PyObject *record_id, PyObject *facts,
                               PyObject *attributes, PyObject *plan);

/* run(record, as_of, jurisdiction) -> (head, layout, outcome bytes, snapshot) | None for the general path */
static PyObject *Lane_run(Lane *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "run(record, as_of, jurisdiction)");
        return NULL;
    }
    PyObject *raw = args[0];
    if (!PyDict_CheckExact(raw) || !keys_known(raw, &self->record_keys)) Py_RETURN_NONE;
    PyObject *site = get(raw, self->k_site), *record_id = get(raw, self->k_record_id);
    if (site == NULL || !PyDict_CheckExact(site) || !keys_known(site, &self->site_keys)) Py_RETURN_NONE;
    if (record_id == NULL || !PyUnicode_CheckExact(record_id) || PyUnicode_GET_LENGTH(record_id) == 0) Py_RETURN_NONE;
    PyObject *facts = get(raw, self->k_facts);
    if (facts != NULL && facts != Py_None && !PyDict_CheckExact(facts)) Py_RETURN_NONE;
    PyObject *attributes = get(site, self->k_attributes);
    if (attributes != NULL) {
        int falsy = json_falsy(attributes);
        if (falsy < 0) Py_RETURN_NONE;
        if (falsy) attributes = NULL;
        else if (!PyDict_CheckExact(attributes)) Py_RETURN_NONE;
    }
    PyObject *findings = get(raw, self->k_findings);
    if (findings != NULL) {
        int falsy = json_falsy(findings);
        if (falsy < 0) Py_RETURN_NONE;
        if (!falsy) {
            if (!PyList_CheckExact(findings)) Py_RETURN_NONE;
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(findings); i++)
                if (!PyDict_CheckExact(PyList_GET_ITEM(findings, i))) Py_RETURN_NONE;
        }
    }
    {
        /* everything but the facts (checked one by one against the vocabulary below) goes into the
         * report as given: it must be plain JSON, as the general path requires */
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(raw, &pos, &key, &value))
            if (key != self->k_facts && PyUnicode_Compare(key, self->k_facts) != 0 && !json_plain(value, 1)) Py_RETURN_NONE;
    }
    PyObject *industry = get(site, self->k_industry), *region = get(site, self->k_region), *day = get(raw, self->k_inspection_date);
    /* From here on objects are allocated, which may run the garbage collector and, through it, other
     * threads: hold what was read from the record, so that a caller changing it cannot free it. */
    PyObject *held[] = {site, record_id, facts, attributes, industry, region, day};
    for (size_t i = 0; i < sizeof held / sizeof *held; i++) Py_XINCREF(held[i]);
    PyObject *result = lane_decide(self, raw, site, record_id, facts, attributes, industry, region, day, args[1], args[2]);
    for (size_t i = 0; i < sizeof held / sizeof *held; i++) Py_XDECREF(held[i]);
    return result;
}

static PyObject *lane_decide(Lane *self, PyObject *raw, PyObject *site, PyObject *record_id, PyObject *facts,
                             PyObject *attributes, PyObject *industry, PyObject *region, PyObject *day,
                             PyObject *as_of_arg, PyObject *jurisdiction) {
    PyObject *key = PyTuple_Pack(5, industry ? industry : Py_None, region ? region : Py_None, day ? day : Py_None, as_of_arg, jurisdiction);
    if (key == NULL) return NULL;
    PyObject *plan = PyDict_GetItemWithError(self->plans, key);
    if (plan == NULL && !PyErr_Occurred()) {
        /* the first record of its industry, region and date: the Python side chooses the module
         * versions and lowers them (once), then the plan is looked up again */
        PyObject *call_args[] = {self->owner, raw, as_of_arg, jurisdiction};
        PyObject *made = PyObject_VectorcallMethod(self->k_add_plan, call_args, 4 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
        if (made == NULL) { Py_DECREF(key); return NULL; }
        Py_DECREF(made);
        plan = PyDict_GetItemWithError(self->plans, key);
    }
    Py_DECREF(key);
    if (plan == NULL) {
        /* an unhashable value (the general path says what is wrong), or a plan dropped meanwhile */
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    if (plan == Py_None) Py_RETURN_NONE;
    Py_INCREF(plan);
    PyObject *result = lane_run_plan(self, raw, site, record_id, facts, attributes, plan);
    Py_DECREF(plan);
    return result;
}

static PyObject *lane_run_plan(Lane *self, PyObject *raw, PyObject *site, PyObject *record_id, PyObject *facts,
                               PyObject *attributes, PyObject *plan) {
    if (!PyTuple_CheckExact(plan) || PyTuple_GET_SIZE(plan) != 7 || !PyObject_TypeCheck(PyTuple_GET_ITEM(plan, 0), &ProgramType)) {
        PyErr_SetString(PyExc_TypeError, "a plan is (program, today, day, as_of, notices, engine, plan)");
        return NULL;
    }
    PyObject *program = PyTuple_GET_ITEM(plan, 0), *pday = PyTuple_GET_ITEM(plan, 2), *as_of = PyTuple_GET_ITEM(plan, 3);
    PyObject *notices = PyTuple_GET_ITEM(plan, 4), *engine = PyTuple_GET_ITEM(plan, 5), *plan_obj = PyTuple_GET_ITEM(plan, 6);
    long long ordinal = PyLong_AsLongLong(PyTuple_GET_ITEM(plan, 1));
    if (ordinal == -1 && PyErr_Occurred()) return NULL;

    PyObject *empty = NULL;
    if (facts == NULL || facts == Py_None) {
        if ((empty = PyDict_New()) == NULL) return NULL;
        facts = empty;
    }
    PyObject *outcomes = run_program((Program *)program, facts, attributes ? attributes : Py_None, ordinal, NULL);
    if (outcomes == NULL || outcomes == Py_None) {
        Py_XDECREF(empty);
        return outcomes;
    }
    /* a copy of what was decided, for explanations worked out later: the caller may reuse its dicts */
    PyObject *snapshot = PyDict_Copy(raw);
    PyObject *facts_copy = ((Program *)program)->has_lists ? copy_facts(facts) : PyDict_Copy(facts);
    PyObject *result = NULL;
    Py_XDECREF(empty);
    if (snapshot == NULL || facts_copy == NULL || PyDict_SetItem(snapshot, self->k_facts, facts_copy) < 0) goto fail;
    if (attributes != NULL) {
        PyObject *site_copy = PyDict_Copy(site), *attributes_copy = PyDict_Copy(attributes);
        int bad = site_copy == NULL || attributes_copy == NULL
                  || PyDict_SetItem(site_copy, self->k_attributes, attributes_copy) < 0
                  || PyDict_SetItem(snapshot, self->k_site, site_copy) < 0;
        Py_XDECREF(site_copy);
        Py_XDECREF(attributes_copy);
        if (bad) goto fail;
    }
    {
        /* the status, as Report.status reads it from the lists */
        const Program *prog = (const Program *)program;
        const char *out = PyBytes_AS_STRING(outcomes);
        Py_ssize_t n_modules = prog->n_modules, n_rules = prog->n_rules, applied = 0;
        for (Py_ssize_t m = 0; m < n_modules; m++) applied |= out[m] != T_FALSE;
        int status = !applied ? 0 : memchr(out + n_modules, O_MATCHED, n_rules) ? 1 : memchr(out + n_modules, O_UNDETERMINED, n_rules) ? 2 : 3;
        PyObject *head = PyTuple_Pack(7, record_id, pday, as_of, self->backend, notices, engine, PyTuple_GET_ITEM(self->statuses, status));
        if (head != NULL) {
            result = PyTuple_Pack(4, head, plan_obj, outcomes, snapshot);
            Py_DECREF(head);
        }
    }
fail:
    Py_DECREF(outcomes);
    Py_XDECREF(snapshot);
    Py_XDECREF(facts_copy);
    return result;
}

static PyMethodDef Lane_methods[] = {
    {"run", (PyCFunction)(void (*)(void))Lane_run, METH_FASTCALL,
     "run(record, as_of, jurisdiction) -> (head, layout, outcome bytes, snapshot) | None for the general path"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject LaneType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "safetyrules._evaluator.Lane",
    .tp_doc = "The per-record entry of the compiled evaluator (see safetyrules/backends/compiled.py).",
    .tp_basicsize = sizeof(Lane),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Lane_init,
    .tp_dealloc = (destructor)Lane_dealloc,
    .tp_methods = Lane_methods,
};

static struct PyModuleDef evaluator_module = {
    PyModuleDef_HEAD_INIT, "safetyrules._evaluator",
    "The compiled evaluator of lowered rule programs (see safetyrules/backends/compiled.py).", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__evaluator(void) {
    if (PyType_Ready(&ProgramType) < 0 || PyType_Ready(&LaneType) < 0) return NULL;
    PyObject *m = PyModule_Create(&evaluator_module);
    if (m == NULL) return NULL;
    Py_INCREF(&ProgramType);
    if (PyModule_AddObject(m, "Program", (PyObject *)&ProgramType) < 0) {
        Py_DECREF(&ProgramType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&LaneType);
    if (PyModule_AddObject(m, "Lane", (PyObject *)&LaneType) < 0) {
        Py_DECREF(&LaneType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "ABI_VERSION", ABI_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
