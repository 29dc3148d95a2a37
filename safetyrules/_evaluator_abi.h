/* Generated from safetyrules/ir/lowered.py by `python tools/abi_header.py`: do not edit.
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

/* node opcodes: numbers (forms, then the language's operators and functions) */
enum {
    N_LIT = 0,
    N_FACT = 1,
    N_DERIVED = 2,
    N_NEG = 3,
    N_IF = 4,
    N_ADD = 5,
    N_SUB = 6,
    N_MUL = 7,
    N_DIV = 8,
    N_MIN = 9,
    N_MAX = 10,
    N_ABS = 11,
    N_DAYS = 12,
    N_CLAMP = 13,
};

/* node opcodes: truth values */
enum {
    B_LIT = 100,
    B_FACT = 101,
    B_DERIVED = 102,
    B_NOT = 103,
    B_AND = 104,
    B_OR = 105,
    B_CMP_NUM = 106,
    B_CMP_CODE = 107,
    B_CMP_BOOL = 108,
    B_MEMBER = 109,
    B_KNOWN_FACT = 110,
    B_KNOWN_DERIVED = 111,
    B_IF = 112,
};

/* node opcodes: codes (enum values, dates as ordinals) */
enum {
    C_LIT = 120,
    C_FACT = 121,
    C_DERIVED = 122,
    C_TODAY = 123,
    C_IF = 124,
};

/* node opcodes: items of lists and quantifiers */
enum {
    I_NUM = 130,
    I_BOOL = 131,
    I_CODE = 132,
    B_KNOWN_ITEM = 133,
    Q_ANY = 134,
    Q_ALL = 135,
    Q_COUNT = 136,
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
#define ABI_VERSION 698289131
#define MAX_VARS 8
#define MAX_LIST_ITEMS 10000

#define FAST_NUMBER_LIMIT 9007199254740992.0 /* 2**53 */

/* the language's functions by number of arguments (case labels) */
#define CASE_FUNCTIONS_OF_1 case N_ABS:
#define CASE_FUNCTIONS_OF_2 case N_MIN: case N_MAX: case N_DAYS:
#define CASE_FUNCTIONS_OF_3 case N_CLAMP:

#endif
