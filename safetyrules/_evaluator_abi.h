/* Generated from safetyrules/ir/lowered.py by `python -m safetyrules.ir.lowered --header`: do not edit.
 * The numbers of the lowered program, shared by the Python lowering and the C evaluator. */
#ifndef SAFETYRULES_EVALUATOR_ABI_H
#define SAFETYRULES_EVALUATOR_ABI_H

/* slot kinds */
enum {
    K_NUM = 0,
    K_BOOL = 1,
    K_ENUM = 2,
    K_DATE = 3,
    K_REJECT = 4,
    K_IGNORE = 5,
    K_LIST = 6,
};

/* slot flags of numbers */
#define SF_INTEGER 1
#define SF_LO 2
#define SF_HI 4

/* node opcodes: numbers */
enum {
    N_LIT = 0,
    N_FACT = 1,
    N_DERIVED = 2,
    N_NEG = 3,
    N_ADD = 4,
    N_SUB = 5,
    N_MUL = 6,
    N_DIV = 7,
    N_MIN = 8,
    N_MAX = 9,
    N_ABS = 10,
    N_IF = 11,
    N_DAYS = 12,
};

/* node opcodes: truth values */
enum {
    B_LIT = 20,
    B_FACT = 21,
    B_DERIVED = 22,
    B_NOT = 23,
    B_AND = 24,
    B_OR = 25,
    B_CMP_NUM = 26,
    B_CMP_CODE = 27,
    B_CMP_BOOL = 28,
    B_MEMBER = 29,
    B_KNOWN_FACT = 30,
    B_KNOWN_DERIVED = 31,
    B_IF = 32,
};

/* node opcodes: codes (enum values, dates as ordinals) */
enum {
    C_LIT = 40,
    C_FACT = 41,
    C_DERIVED = 42,
    C_TODAY = 43,
    C_IF = 44,
};

/* node opcodes: items of lists and quantifiers */
enum {
    I_NUM = 50,
    I_BOOL = 51,
    I_CODE = 52,
    B_KNOWN_ITEM = 53,
    Q_ANY = 54,
    Q_ALL = 55,
    Q_COUNT = 56,
};

/* comparison codes */
enum {
    CMP_LT = 0,
    CMP_LE = 1,
    CMP_GT = 2,
    CMP_GE = 3,
    CMP_EQ = 4,
    CMP_NE = 5,
};

/* truth values (Kleene) */
enum {
    T_FALSE = 0,
    T_TRUE = 1,
    T_UNKNOWN = 2,
};

/* outcome bytes */
enum {
    O_NOT_MATCHED = 0,
    O_MATCHED = 1,
    O_UNDETERMINED = 2,
    O_NOT_APPLICABLE = 3,
};

/* limits */
#define ABI_VERSION 5
#define MAX_VARS 8
#define MAX_LIST_ITEMS 10000

#define FAST_NUMBER_LIMIT 9007199254740992.0 /* 2**53 */

#endif
