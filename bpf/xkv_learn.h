/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_learn.h - state of the learning-mode TC programs (xkv_learn.bpf.c)
 * that only they read: the TCP streams they follow and their parsers.
 *
 * What user space sees (settings, per-slot generations, counters) is in
 * abi/xkv_learn_maps.h and abi/xkv_learn_stats.h. The structures here are
 * in a map too (xkv_lflows), so bpftool prints them, but nothing outside
 * the programs depends on them.
 * Each limit can be overridden with -D at build time.
 */
#ifndef XKV_LEARN_H
#define XKV_LEARN_H

#include "xkv_slot.h"
#include "xkv_learn_maps.h"
#include "xkv_learn_stats.h"

/* payload bytes loaded at a time for the parsers (a power of two) */
#ifndef XKV_LCHUNK
#define XKV_LCHUNK 256
#endif
/* header bytes loaded: Ethernet, 2 tags, IPv6 + extension headers, TCP */
#define XKV_LHDR_BUF 256
/* VALUE blocks one reply packet may install (a power of two) */
#ifndef XKV_LEARN_MAX_CAND
#define XKV_LEARN_MAX_CAND 32
#endif
/* most sampled hits a learned entry defends its slot with (install.h) */
#define XKV_LEARN_KEEP_MAX 8
/* slots one request packet may leave to clear after its parse; more and
 * the whole cache is flushed instead (a power of two) */
#ifndef XKV_LEARN_QUEUE
#define XKV_LEARN_QUEUE 64
#endif
/* IPv6 extension headers walked before the transport header */
#define XKV_LEARN_V6_EXT_MAX 6
/* a "VALUE"/"VA" byte count or skip beyond this is not memcached's */
#define XKV_LEARN_SKIP_MAX 0x7fffffffU
/* rounding up an expiry learned at ingress: memcached's clock ticks once
 * a second and lags the real time by up to a second */
#define XKV_LEARN_EXP_SLACK_NS (2ULL * 1000000000ULL)
/* exptime above this many seconds is a unix time (memcached's rule) */
#define XKV_LEARN_REALTIME_MAXDELTA 2592000
/* upper bound of CLOCK_TAI - CLOCK_REALTIME (leap seconds since 1972) */
#define XKV_LEARN_TAI_OFFSET_MAX 37

/* --- the request parser (ingress) ----------------------------------------- */

/* xkv_lin.st */
enum {
	XKV_LIN_LINE,		/* in a command line */
	XKV_LIN_SKIPLINE,	/* ignoring bytes up to the next '\n' */
	XKV_LIN_DATA,		/* skipping a storage command's data block */
};

/* xkv_lin.cls: what the line's first token said */
enum {
	XKV_LC_NONE,		/* first token not complete yet */
	XKV_LC_OTHER,		/* not a command that reads or writes keys */
	XKV_LC_GET,		/* get gets bget: keys follow */
	XKV_LC_STORE,		/* set add replace append prepend */
	XKV_LC_CAS,
	XKV_LC_KEY,		/* delete incr decr: one key */
	XKV_LC_TOUCH,
	XKV_LC_GAT,		/* gat gats: exptime, then keys */
	XKV_LC_FLUSH,		/* flush_all */
	XKV_LC_MS,		/* meta commands */
	XKV_LC_MD,
	XKV_LC_MA,
	XKV_LC_MG,
};

/* xkv_lin.f */
#define XKV_LINF_CR 0x01	/* a '\r' waits: line end or a key byte */
#define XKV_LINF_NUL 0x02	/* a NUL ended the tokens (memcached uses
				 * strlen): ignore the rest of the line */
#define XKV_LINF_FLUSH_EOL 0x04	/* flush the cache when this line ends */
#define XKV_LINF_PREV_NL 0x08	/* the previous byte was '\n' */
#define XKV_LINF_UNSURE 0x10	/* framing not known for sure: every line
				 * start candidate is parsed, data blocks
				 * are not skipped */
#define XKV_LINF_HOPELESS 0x20	/* unsure and too much to track: flush on
				 * every segment from now on */
#define XKV_LINF_KEY_OK 0x40	/* the line's key is at most 250 bytes */

/* xkv_lin.mf: meta command flags seen */
#define XKV_LMF_B 0x01		/* base64 key */
#define XKV_LMF_TTL 0x02	/* T or N: sets an expiry */
#define XKV_LMF_LETTER 0x04	/* the current token is a T or N flag */

/* xkv_lin.ok: tokens memcached accepts as numbers */
#define XKV_LOK_FLAGS 0x01
#define XKV_LOK_EXP 0x02
#define XKV_LOK_VLEN 0x04
#define XKV_LOK_CAS 0x08

/* number parser phases (strtol's grammar, base 10) */
enum {
	XKV_LN_LEAD,		/* leading white space */
	XKV_LN_SIGN,		/* a sign seen, a digit must follow */
	XKV_LN_DIG,		/* digits */
	XKV_LN_TAIL,		/* white space after digits: the rest is free */
	XKV_LN_BAD,
};

/* number parser flags */
#define XKV_LNF_NEG 0x01	/* a '-' sign */
#define XKV_LNF_DASH 0x02	/* a '-' anywhere in the token */
#define XKV_LNF_OVF 0x04	/* magnitude above 2^64 - 1 */

/**
 * struct xkv_lin - where the request parser is in a byte stream.
 * @st:      XKV_LIN_*.
 * @cls:     XKV_LC_* of the current line.
 * @f:       XKV_LINF_*.
 * @mf:      XKV_LMF_*.
 * @nst:     number parser phase of the current token.
 * @nf:      number parser flags of the current token.
 * @ok:      XKV_LOK_*.
 * @npend:   entries used in @pend.
 * @tok:     tokens completed on this line.
 * @tlen:    bytes of the current token (saturates).
 * @kidx:    hot-cache slot of the line's key, ~0 = none.
 * @ths:     running key hash of the current token (@tlen bytes in).
 * @mag:     the current token's digits as a number.
 * @w0:      first 8 bytes of the first token (little-endian packed).
 * @w1:      its next 8 bytes.
 * @exptime: the line's exptime (or meta TTL) as memcached reads it.
 * @vlen:    the line's byte count as memcached reads it.
 * @skip:    data bytes left to skip (XKV_LIN_DATA).
 * @pend:    unsure mode: stream positions (TCP sequence numbers) where
 *           memcached resumes parsing after a storage command seen in a
 *           candidate line (its write takes effect there, and a command
 *           may start there even if no '\n' precedes it).
 * @pkidx:   the slot each @pend entry writes, ~0 = none.
 * @gk:      slots of a gat line's keys (it takes effect at its end).
 * @ngk:     entries used in @gk; more keys than fit flush the cache.
 * @pad:     zero.
 */
struct xkv_lin {
	__u8 st;
	__u8 cls;
	__u8 f;
	__u8 mf;
	__u8 nst;
	__u8 nf;
	__u8 ok;
	__u8 npend;
	__u16 tok;
	__u16 tlen;
	__u32 kidx;
	struct xkv_hot_hs ths;
	__u64 mag;
	__u64 w0;
	__u64 w1;
	__s32 exptime;
	__s32 vlen;
	__u32 skip;
	__u32 pend[2];
	__u32 pkidx[2];
	__u32 gk[4];
	__u8 ngk;
	__u8 pad[3];
};

#define XKV_LIN_GAT_KEYS 4

/* --- the reply parser (egress) -------------------------------------------- */

/* xkv_lout.st */
enum {
	XKV_LOUT_LINE,
	XKV_LOUT_SKIPLINE,
	XKV_LOUT_DATA,		/* skipping a VALUE/VA data block */
	XKV_LOUT_CR,		/* the block's "\r\n" */
	XKV_LOUT_LF,
};

/* xkv_lout.cls */
enum {
	XKV_LR_NONE,
	XKV_LR_OTHER,
	XKV_LR_VALUE,		/* VALUE <key> <flags> <bytes>[ <cas>] */
	XKV_LR_VA,		/* VA <bytes> <flags>* (meta) */
};

/* xkv_lout.f */
#define XKV_LOUTF_CR 0x01	/* a '\r' waits */
#define XKV_LOUTF_HERE 0x02	/* the line started in this packet */
#define XKV_LOUTF_BAD 0x04	/* not memcached's format: framing lost */

/**
 * struct xkv_lout - where the reply parser is in a byte stream.
 * @st:      XKV_LOUT_*.
 * @cls:     XKV_LR_*.
 * @f:       XKV_LOUTF_*.
 * @cand:    1 + index of the candidate whose "\r\n" is being checked.
 * @tok:     tokens completed on this line.
 * @tlen:    bytes of the current token.
 * @khash:   the key's hash.
 * @key_off: packet offset of the key (valid with XKV_LOUTF_HERE).
 * @klen:    key length.
 * @nbad:    a number token had a non-digit or overflowed.
 * @pad:     zero.
 * @ths:     running hash of the current token (@tlen bytes in).
 * @w0:      first 8 bytes of the first token.
 * @num:     the current token as a number.
 * @flags:   the VALUE line's numbers.
 * @bytes:
 * @cas:
 * @skip:    data bytes left to skip.
 */
struct xkv_lout {
	__u8 st;
	__u8 cls;
	__u8 f;
	__u8 cand;
	__u16 tok;
	__u16 tlen;
	__u32 khash;
	__u32 key_off;
	__u16 klen;
	__u8 nbad;
	__u8 pad;
	struct xkv_hot_hs ths;
	__u64 w0;
	__u64 num;
	__u64 flags;
	__u64 bytes;
	__u64 cas;
	__u32 skip;
	__u32 pad2;
};

/* --- TCP streams ---------------------------------------------------------- */

/**
 * struct xkv_learn_tuple - a TCP stream: one direction of a connection.
 * @caddr: client address (IPv4 in the first 4 bytes, the rest zero)
 * @saddr: server (memcached) address
 * @cport: client port, network order
 * @sport: server port, network order
 * @v6:    1 for IPv6
 * @dir:   0: requests (client to server), 1: replies
 * @pad:   zero
 */
struct xkv_learn_tuple {
	__u8 caddr[16];
	__u8 saddr[16];
	__be16 cport;
	__be16 sport;
	__u8 v6;
	__u8 dir;
	__u8 pad[2];
};

/**
 * struct xkv_learn_req - a UDP request waiting for its reply (the key of
 * xkv_lreq): what the reply must carry back.
 * @t:   addresses and ports, as a request stream's tuple (@t.dir 0)
 * @id:  the frame header's request id, as sent
 * @pad: zero
 */
struct xkv_learn_req {
	struct xkv_learn_tuple t;
	__be16 id;
	__u8 pad[6];
};

/* xkv_learn_flow.proto */
enum {
	XKV_LPROTO_UNDECIDED,	/* SYN seen, the first byte will tell */
	XKV_LPROTO_TEXT,
	XKV_LPROTO_BINARY,
	XKV_LPROTO_UNKNOWN,	/* first seen mid-stream: could be binary */
};

/* xkv_learn_flow.lost (replies only) */
#define XKV_LFLOW_LOST 1	/* framing lost: learn nothing from it */

/**
 * struct xkv_learn_flow - one followed TCP stream (xkv_lflows entry).
 * @lock:     1 while a CPU works on the entry (compare-and-swap from 0);
 *            another CPU that finds it taken does not wait.
 * @used:     1 when @t is a stream.
 * @t:        which stream.
 * @next_seq: sequence number of the next byte expected.
 * @base_seq: every byte from here to @next_seq was parsed in order.
 * @last_ns:  last packet (the older of two entries is replaced).
 * @proto:    XKV_LPROTO_*.
 * @lost:     XKV_LFLOW_LOST.
 * @pad:      zero.
 * @in:       parser state of a request stream.
 * @out:      parser state of a reply stream.
 */
struct xkv_learn_flow {
	__u32 lock;
	__u32 used;
	struct xkv_learn_tuple t;
	__u32 next_seq;
	__u32 base_seq;
	__u64 last_ns;
	__u8 proto;
	__u8 lost;
	__u8 pad[6];
	union {
		struct xkv_lin in;
		struct xkv_lout out;
	};
};

#endif /* XKV_LEARN_H */
