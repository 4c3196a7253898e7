/* plainlines.heads in C: the JSON of a record's plain log lines (the fast path of
events.activation_events; plainlines.py says what a plain line is and what the function promises).

For each plain line from ``entries[first]`` on, this appends to ``heads`` exactly the bytes
plainlines.python_heads writes (one orjson call on the entry, then a format), and stops at the first
entry it does not take: the caller builds that one the general way and calls again past it.
tests/test_plainlines.py holds the two to the same bytes, line by line and over whole records.

Pure: no I/O, no state kept between calls. Only the Python C API and memcpy: the module needs
nothing from glibc newer than 2.17 (the build checks it), as the action's other compiled modules. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define TIME_LEN 30   /* "YYYY-MM-DDTHH:MM:SS.fffffffffZ" */
#define SECOND_LEN 20 /* "YYYY-MM-DDTHH:MM:SS." */
#define MESSAGE_AT 39 /* the time, " stdout: " */

static const char HEAD_START[] = "{\"@timestamp\":\"";
static const char MESSAGE_KEY[] = "\",\"message\":\"";
static const char STREAM_KEY[] = "\",\"stream\":\"";
static const char OFFSET_KEY[] = "\",\"log\":{\"offset\":";
static const char ID_KEY[] = "},\"@metadata\":{\"_id\":";
static const char HEAD_END[] = "\"}";
static const char STDOUT[] = "stdout: ", STDERR[] = "stderr: "; /* a stream as the line has it; its name: 6 */
#define LITERAL(s) (sizeof(s) - 1)

/* What a code point below 0x80 takes in a JSON string as orjson writes it: 1 (itself), 2 (a short
   escape) or 6 (\u00XX, lowercase hex). */
static unsigned char ascii_width[128];
static char short_escape[128];

static void init_tables(void)
{
    for (int c = 0; c < 128; c++) {
        ascii_width[c] = c < 0x20 ? 6 : 1;
        short_escape[c] = 0;
    }
    const char *from = "\"\\\b\t\n\f\r", *to = "\"\\btnfr";
    for (int i = 0; from[i]; i++) {
        ascii_width[(unsigned char)from[i]] = 2;
        short_escape[(unsigned char)from[i]] = to[i];
    }
}

/* The bytes of the message's JSON (without quotes) from ``at`` on, or -1 for a lone surrogate, which
   orjson refuses (the general path replaces it). */
static Py_ssize_t message_width(int kind, const void *data, Py_ssize_t at, Py_ssize_t length)
{
    Py_ssize_t width = 0;
    for (Py_ssize_t i = at; i < length; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x80)
            width += ascii_width[c];
        else if (c < 0x800)
            width += 2;
        else if (c < 0x10000) {
            if (c >= 0xD800 && c <= 0xDFFF)
                return -1;
            width += 3;
        }
        else
            width += 4;
    }
    return width;
}

/* How many of the ASCII bytes ``text[0:n]`` need escaping: any (not how many) is what counts. */
static Py_ssize_t ascii_specials(const unsigned char *text, Py_ssize_t n)
{
    Py_ssize_t specials = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        specials += (text[i] < 0x20) | (text[i] == '"') | (text[i] == '\\');
    return specials;
}

static char *write_message(char *out, int kind, const void *data, Py_ssize_t at, Py_ssize_t length)
{
    static const char hex[] = "0123456789abcdef";
    for (Py_ssize_t i = at; i < length; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x80) {
            if (ascii_width[c] == 1)
                *out++ = (char)c;
            else if (short_escape[c]) {
                *out++ = '\\';
                *out++ = short_escape[c];
            }
            else {
                memcpy(out, "\\u00", 4);
                out[4] = hex[c >> 4];
                out[5] = hex[c & 15];
                out += 6;
            }
        }
        else if (c < 0x800) {
            *out++ = (char)(0xC0 | (c >> 6));
            *out++ = (char)(0x80 | (c & 0x3F));
        }
        else if (c < 0x10000) {
            *out++ = (char)(0xE0 | (c >> 12));
            *out++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *out++ = (char)(0x80 | (c & 0x3F));
        }
        else {
            *out++ = (char)(0xF0 | (c >> 18));
            *out++ = (char)(0x80 | ((c >> 12) & 0x3F));
            *out++ = (char)(0x80 | ((c >> 6) & 0x3F));
            *out++ = (char)(0x80 | (c & 0x3F));
        }
    }
    return out;
}

/* Whether characters [from, to) of the entry are all ``c``. */
static int all_are(int kind, const void *data, Py_ssize_t from, Py_ssize_t to, Py_UCS4 c)
{
    for (Py_ssize_t i = from; i < to; i++)
        if (PyUnicode_READ(kind, data, i) != c)
            return 0;
    return 1;
}

static int ascii_digits(int kind, const void *data, Py_ssize_t from, Py_ssize_t to)
{
    for (Py_ssize_t i = from; i < to; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < '0' || c > '9')
            return 0;
    }
    return 1;
}

/* The line's time as events carry it, nine digits (a trimmed fraction padded with zeros), into
   ``time``; its stream (STDOUT or STDERR) into ``*stream``. 0 if the line has not the shape. */
static int line_time(int kind, const void *data, Py_ssize_t length, char *time, const char **stream)
{
    if (length < MESSAGE_AT)
        return 0;
    Py_ssize_t end = 29; /* where the time's Z is */
    if (PyUnicode_READ(kind, data, 29) != 'Z') {
        /* A fraction Docker trimmed, padded with spaces to 30 characters (owlog.nine_digits). */
        for (end = 21; end < 29 && PyUnicode_READ(kind, data, end) != 'Z'; end++)
            ;
        if (end == 29 || !all_are(kind, data, end + 1, 31, ' '))
            return 0;
    }
    else if (PyUnicode_READ(kind, data, 30) != ' ')
        return 0;
    if (!ascii_digits(kind, data, 20, end))
        return 0;
    const char *name = PyUnicode_READ(kind, data, 34) == 'o' ? STDOUT : STDERR;
    for (int i = 0; i < 8; i++)
        if (PyUnicode_READ(kind, data, 31 + i) != (Py_UCS4)(unsigned char)name[i])
            return 0;
    for (int i = 0; i < SECOND_LEN; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= 0x80)
            return 0;
        time[i] = (char)c;
    }
    for (Py_ssize_t i = 20; i < 29; i++)
        time[i] = i < end ? (char)PyUnicode_READ(kind, data, i) : '0';
    time[29] = 'Z';
    *stream = name;
    return 1;
}

static int two_digits(const char *at)
{
    return (at[0] - '0') * 10 + (at[1] - '0');
}

/* Whether ``time`` (its first 20 characters ASCII) starts with a real second of 1970 or later:
   ``YYYY-MM-DDTHH:MM:SS.`` with seconds 00..59, what owlog.known_second accepts (a test holds the two
   to the same answer over every day of two centuries and the edges of each field). */
static int real_second(const char *time)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.";
    for (int i = 0; i < SECOND_LEN; i++)
        if (shape[i] == 'd' ? time[i] < '0' || time[i] > '9' : time[i] != shape[i])
            return 0;
    int year = two_digits(time) * 100 + two_digits(time + 2), month = two_digits(time + 5), day = two_digits(time + 8);
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return year >= 1970 && month >= 1 && month <= 12 && day >= 1 && day <= days[month - 1] + (month == 2 && leap)
           && two_digits(time + 11) <= 23 && two_digits(time + 14) <= 59 && time[17] <= '5';
}

static int is_marker(PyObject *entry, PyObject *markers)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(markers); i++) {
        Py_ssize_t match = PyUnicode_Tailmatch(entry, PyTuple_GET_ITEM(markers, i), MESSAGE_AT, PY_SSIZE_T_MAX, -1);
        if (match != 0)
            return (int)match; /* 1, or -1 with an exception set */
    }
    return 0;
}

static char *write_digits(char *out, Py_ssize_t number)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + number % 10);
        number /= 10;
    } while (number);
    while (n)
        *out++ = digits[--n];
    return out;
}

static Py_ssize_t count_digits(Py_ssize_t number)
{
    Py_ssize_t n = 1;
    while (number >= 10) {
        number /= 10;
        n++;
    }
    return n;
}

/* heads(entries, first, heads, id_prefix_json, fits, marker_prefixes) */
static PyObject *heads(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "heads() takes 6 arguments");
        return NULL;
    }
    PyObject *entries = args[0], *out = args[2], *prefix = args[3], *markers = args[5];
    if (!PyList_Check(entries) || !PyList_Check(out) || !PyBytes_Check(prefix) || !PyTuple_Check(markers)) {
        PyErr_SetString(PyExc_TypeError, "heads(): a list, an index, a list, bytes, a size, a tuple of text");
        return NULL;
    }
    /* ``fits`` may be any int: one past what a size holds is "any line", one below it "none". */
    int overflow;
    long long fits_given = PyLong_AsLongLongAndOverflow(args[4], &overflow);
    Py_ssize_t first = PyLong_AsSsize_t(args[1]);
    if ((first == -1 || fits_given == -1) && PyErr_Occurred())
        return NULL;
    Py_ssize_t fits = overflow > 0 ? PY_SSIZE_T_MAX : overflow < 0 ? -1 : (Py_ssize_t)fits_given;
    const char *prefix_bytes = PyBytes_AS_STRING(prefix);
    Py_ssize_t prefix_len = PyBytes_GET_SIZE(prefix);
    /* The last real second: a record's lines share it, nearly always. Filled with a byte no time has
       (line_time copies ASCII only), so that no line matches it before a second was checked. */
    char time[TIME_LEN], last[SECOND_LEN];
    memset(last, 0xFF, SECOND_LEN);
    Py_ssize_t offset = first < 0 ? 0 : first;
    for (; offset < PyList_GET_SIZE(entries); offset++) {
        PyObject *entry = PyList_GET_ITEM(entries, offset);
        if (!PyUnicode_CheckExact(entry))
            break;
        Py_ssize_t length = PyUnicode_GET_LENGTH(entry);
        int kind = PyUnicode_KIND(entry);
        const void *data = PyUnicode_DATA(entry);
        const char *stream;
        if (length > fits || !line_time(kind, data, length, time, &stream))
            break;
        if (memcmp(time, last, SECOND_LEN) != 0) {
            if (!real_second(time))
                break;
            memcpy(last, time, SECOND_LEN);
        }
        if (stream == STDERR) {
            int marker = is_marker(entry, markers);
            if (marker != 0) {
                if (marker < 0)
                    return NULL;
                break;
            }
        }
        /* Nearly every message is ASCII with nothing to escape: counted in one pass that the compiler
           turns into vector instructions, then copied whole. */
        int plain_ascii = PyUnicode_IS_ASCII(entry) && !ascii_specials((const unsigned char *)data + MESSAGE_AT,
                                                                      length - MESSAGE_AT);
        Py_ssize_t message = plain_ascii ? length - MESSAGE_AT : message_width(kind, data, MESSAGE_AT, length);
        if (message < 0)
            break;
        Py_ssize_t digits = count_digits(offset);
        Py_ssize_t size = LITERAL(HEAD_START) + TIME_LEN + LITERAL(MESSAGE_KEY) + message + LITERAL(STREAM_KEY) + 6
                          + LITERAL(OFFSET_KEY) + digits + LITERAL(ID_KEY) + prefix_len + digits + LITERAL(HEAD_END);
        PyObject *head = PyBytes_FromStringAndSize(NULL, size);
        if (head == NULL)
            return NULL;
        char *at = PyBytes_AS_STRING(head);
#define PUT(bytes, n) (memcpy(at, (bytes), (n)), at += (n))
        PUT(HEAD_START, LITERAL(HEAD_START));
        PUT(time, TIME_LEN);
        PUT(MESSAGE_KEY, LITERAL(MESSAGE_KEY));
        if (plain_ascii)
            PUT((const char *)data + MESSAGE_AT, message);
        else
            at = write_message(at, kind, data, MESSAGE_AT, length);
        PUT(STREAM_KEY, LITERAL(STREAM_KEY));
        PUT(stream, 6);
        PUT(OFFSET_KEY, LITERAL(OFFSET_KEY));
        at = write_digits(at, offset);
        PUT(ID_KEY, LITERAL(ID_KEY));
        PUT(prefix_bytes, prefix_len);
        at = write_digits(at, offset);
        PUT(HEAD_END, LITERAL(HEAD_END));
#undef PUT
        int appended = PyList_Append(out, head);
        Py_DECREF(head);
        if (appended < 0)
            return NULL;
    }
    return PyLong_FromSsize_t(offset);
}

static PyMethodDef methods[] = {
    {"heads", (PyCFunction)(void (*)(void))heads, METH_FASTCALL,
     "heads(entries, first, heads, id_prefix_json, fits, marker_prefixes) -> int\n\n"
     "Appends to heads the JSON of entries[first:]'s plain lines; returns the index of the first entry not taken."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "logfwd.sources.openwhisk._plainlines",
    .m_doc = "The JSON of plain OpenWhisk log lines (plainlines.heads), in C.",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__plainlines(void)
{
    init_tables();
    return PyModule_Create(&module);
}
