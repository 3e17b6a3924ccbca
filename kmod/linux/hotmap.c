// SPDX-License-Identifier: GPL-2.0
/*
 * hotmap.c - /dev/xkv, the control device: the loader hands the module the
 * XDP hot cache through it (ioctls in abi/xkv_ioctl.h).
 *
 * Attaching resolves the loader's map fd with bpf_map_get(), checks that
 * the map is an xkv hot cache, keeps the reference and gives the array's
 * value memory (struct bpf_array.value: page aligned and vmalloc'ed for a
 * BPF_F_MMAPABLE array, the very pages xkvd would mmap) to the store core,
 * which from then on keeps the slots coherent exactly as it does in xkvd.
 *
 * The core reads its hot-cache pointer without a lock and only allows it
 * to change while no client is being served (xkv_store_attach_hot(),
 * xkv_store_detach_hot()). The module serves clients all along, so the
 * change happens under the write side of srv->hot_rwsem, a per-CPU
 * rw-semaphore whose read side every worker holds while it serves a
 * transport and the maintenance thread holds for a store step: cheap for
 * them (a per-CPU counter), and an attach or detach waits until none of
 * them is inside the store. The same write side serialises the ioctls
 * among themselves and guards srv->hot_map.
 *
 * The TCP fast path's table (XKV_IOC_TCP_ATTACH) is handed over the same
 * way: its array memory is where connections claim their entries
 * (tcp.c), and it changes under the same write side, after every
 * connection's entry in the old one is released.
 *
 * Lifetime: the device is registered last when the module loads and
 * deregistered first when it unloads, and its file operations hold a
 * module reference while the device is open, so no ioctl runs while the
 * server starts or stops. Unloading releases the connections' TCP fast
 * path entries, detaches the hot cache (emptying every slot, so XDP never
 * serves what the module no longer has) and drops the map references.
 */
#include "xkvm.h"

#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/percpu-rwsem.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "xkv_hot.h"
#include "xkv_live.h"
#include "xkv_ioctl.h"
#include "xkv_tcp.h"

/*
 * bpf_map_get() is a plain export in 6.1; later kernels (and some stable
 * branches) moved it into the BPF_INTERNAL namespace. Importing a
 * namespace the kernel does not have costs nothing, so import it always;
 * 6.13 made the macro take a string.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("BPF_INTERNAL");
#else
MODULE_IMPORT_NS(BPF_INTERNAL);
#endif

/* Take a map fd from the loader: the map, referenced, or an ERR_PTR. */
static struct bpf_map *xkvm_ctl_map_get(int fd)
{
	struct bpf_map *map;
	struct file *file;
	int err;

	map = bpf_map_get(fd);
	if (IS_ERR(map))
		return map;
	/*
	 * The store writes the slots: insist on a descriptor that may write
	 * the map, as the bpf() syscall would (map_get_sys_perms()). The
	 * file is looked up again, so make sure it is still the same map.
	 */
	file = fget(fd);
	if (!file || file->private_data != map) {
		err = -EBADF;
		goto put_file;
	}
	if (!(file->f_mode & FMODE_CAN_WRITE) || READ_ONCE(map->frozen)) {
		err = -EPERM;
		goto put_file;
	}
	fput(file);
	return map;

put_file:
	if (file)
		fput(file);
	bpf_map_put(map);
	return ERR_PTR(err);
}

/* Is @map an xkv hot cache (abi/xkv_hot.h)? */
static bool xkvm_ctl_map_ok(const struct bpf_map *map)
{
	const struct bpf_array *array;

	if (map->map_type != BPF_MAP_TYPE_ARRAY ||
	    !(map->map_flags & BPF_F_MMAPABLE) ||
	    map->value_size != sizeof(struct xkv_slot) ||
	    !is_power_of_2(map->max_entries))
		return false;
	array = container_of(map, struct bpf_array, map);
	return array->elem_size == sizeof(struct xkv_slot);
}

/* The hot cache behind the loader's fd, referenced, or an ERR_PTR. */
static struct bpf_map *xkvm_ctl_hot_get(int fd)
{
	struct bpf_map *map = xkvm_ctl_map_get(fd);

	if (IS_ERR(map)) {
		pr_warn_ratelimited(
			"hot cache: fd %d: not a writable BPF map (%ld)\n",
			fd, PTR_ERR(map));
		return map;
	}
	if (!xkvm_ctl_map_ok(map)) {
		pr_warn_ratelimited("hot cache: map id %u is not an xkv hot cache (type %u, value %u bytes, flags %#x, %u entries)\n",
				    map->id, map->map_type, map->value_size,
				    map->map_flags, map->max_entries);
		bpf_map_put(map);
		return ERR_PTR(-EINVAL);
	}
	return map;
}

static long xkvm_ctl_attach(struct xkvm_server *srv, void __user *uarg)
{
	struct xkv_ioc_hot arg;
	struct bpf_array *array;
	struct bpf_map *map;
	u32 busy_id = 0;
	int err;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags)
		return -EINVAL;
	map = xkvm_ctl_hot_get(arg.map_fd);
	if (IS_ERR(map))
		return PTR_ERR(map);
	array = container_of(map, struct bpf_array, map);

	percpu_down_write(&srv->hot_rwsem);
	if (srv->hot_map) {
		busy_id = srv->hot_map->id;
		err = -EBUSY;
	} else {
		err = xkv_store_attach_hot(srv->st, array->value,
					   map->max_entries);
		if (!err)
			srv->hot_map = map;
	}
	percpu_up_write(&srv->hot_rwsem);
	if (err == -EBUSY) {
		pr_warn_ratelimited(
			"hot cache: map id %u refused, map id %u is attached\n",
			map->id, busy_id);
		goto put_map;
	}
	if (err)
		goto put_map;

	pr_info("hot cache attached: map id %u, %u slots\n", map->id,
		map->max_entries);
	arg.map_id = map->id;
	arg.nslots = map->max_entries;
	/* attached all the same: the caller can ask XKV_IOC_INFO */
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		return -EFAULT;
	return 0;

put_map:
	bpf_map_put(map);
	return err;
}

/* Is @map an xkv lease (struct xkv_live)? */
static bool xkvm_ctl_live_ok(const struct bpf_map *map)
{
	return map->map_type == BPF_MAP_TYPE_ARRAY &&
	       (map->map_flags & BPF_F_MMAPABLE) &&
	       map->value_size == sizeof(struct xkv_live) &&
	       map->max_entries == 1;
}

/* The lease behind the loader's fd, referenced, or an ERR_PTR. */
static struct bpf_map *xkvm_ctl_live_get(int fd)
{
	struct bpf_map *map = xkvm_ctl_map_get(fd);

	if (IS_ERR(map))
		return map;
	if (!xkvm_ctl_live_ok(map)) {
		pr_warn_ratelimited("lease: map id %u is not an xkv lease\n",
				    map->id);
		bpf_map_put(map);
		return ERR_PTR(-EINVAL);
	}
	return map;
}

static long xkvm_ctl_live_attach(struct xkvm_server *srv, void __user *uarg)
{
	struct bpf_map *map, *old;
	struct xkv_ioc_map arg;
	struct bpf_array *array;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags)
		return -EINVAL;
	map = xkvm_ctl_live_get(arg.map_fd);
	if (IS_ERR(map))
		return PTR_ERR(map);
	array = container_of(map, struct bpf_array, map);

	/* the newest lease wins: the one of the XDP program now attached */
	percpu_down_write(&srv->hot_rwsem);
	old = srv->live_map;
	xkv_store_detach_live(srv->st);
	srv->live_map = map;
	xkv_store_attach_live(srv->st, (struct xkv_live *)array->value);
	percpu_up_write(&srv->hot_rwsem);
	if (old)
		bpf_map_put(old);
	pr_info("lease attached: map id %u, renewed every %u ms\n", map->id,
		XKV_LIVE_BEAT_MS);
	arg.map_id = map->id;
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		return -EFAULT;
	return 0;
}

/* End the lease and let go of its map, if one is attached. */
static void xkvm_ctl_live_detach(struct xkvm_server *srv)
{
	struct bpf_map *map;

	percpu_down_write(&srv->hot_rwsem);
	map = srv->live_map;
	xkv_store_detach_live(srv->st);
	srv->live_map = NULL;
	percpu_up_write(&srv->hot_rwsem);
	if (map)
		bpf_map_put(map);
}

/* Is @map an xkv_tcp_ans table (abi/xkv_tcp.h)? */
static bool xkvm_ctl_tcp_ok(const struct bpf_map *map)
{
	const struct bpf_array *array;

	if (map->map_type != BPF_MAP_TYPE_ARRAY ||
	    !(map->map_flags & BPF_F_MMAPABLE) ||
	    map->value_size != sizeof(struct xkv_tcp_ans) ||
	    map->max_entries != XKV_TCP_ANS_SLOTS)
		return false;
	array = container_of(map, struct bpf_array, map);
	return array->elem_size == sizeof(struct xkv_tcp_ans);
}

/* The TCP fast path's table behind the loader's fd, or an ERR_PTR. */
static struct bpf_map *xkvm_ctl_tcp_get(int fd)
{
	struct bpf_map *map = xkvm_ctl_map_get(fd);

	if (IS_ERR(map))
		return map;
	if (!xkvm_ctl_tcp_ok(map)) {
		pr_warn_ratelimited("TCP fast path: map id %u is not an xkv_tcp_ans table (type %u, value %u bytes, flags %#x, %u entries)\n",
				    map->id, map->map_type, map->value_size,
				    map->map_flags, map->max_entries);
		bpf_map_put(map);
		return ERR_PTR(-EINVAL);
	}
	return map;
}

/*
 * The newest table wins (the one of the XDP object now attached): the
 * connections' entries in the old one are released first. Connections
 * accepted from now on claim entries; those already open stay without.
 */
static long xkvm_ctl_tcp_attach(struct xkvm_server *srv, void __user *uarg)
{
	struct bpf_map *map, *old;
	struct bpf_array *array;
	struct xkv_ioc_map arg;
	u32 stale;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags)
		return -EINVAL;
	map = xkvm_ctl_tcp_get(arg.map_fd);
	if (IS_ERR(map))
		return PTR_ERR(map);
	array = container_of(map, struct bpf_array, map);

	percpu_down_write(&srv->hot_rwsem);
	old = srv->tcp_map;
	xkvm_conns_fast_release(srv);
	srv->tcp_map = map;
	srv->tcp_ans = (struct xkv_tcp_ans *)array->value;
	/* one backend owns the table: what another left is stale */
	stale = xkv_tcp_ans_reset(srv->tcp_ans);
	percpu_up_write(&srv->hot_rwsem);
	if (old)
		bpf_map_put(old);
	pr_info("TCP fast path attached: map id %u (%u stale entries freed)\n",
		map->id, stale);
	arg.map_id = map->id;
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		return -EFAULT;
	return 0;
}

/*
 * Release every connection's entry and let go of the table, if one is
 * attached. Returns the map's id, 0 when none was attached.
 */
static u32 xkvm_ctl_tcp_detach(struct xkvm_server *srv)
{
	struct bpf_map *map;
	u32 id = 0;

	percpu_down_write(&srv->hot_rwsem);
	map = srv->tcp_map;
	xkvm_conns_fast_release(srv);
	srv->tcp_map = NULL;
	srv->tcp_ans = NULL;
	percpu_up_write(&srv->hot_rwsem);
	if (map) {
		id = map->id;
		bpf_map_put(map);
		pr_info("TCP fast path detached: map id %u\n", id);
	}
	return id;
}

/*
 * Empty the slots and let go of the map, if one is attached. Returns the
 * map's id, 0 when none was attached.
 */
static u32 xkvm_ctl_detach(struct xkvm_server *srv)
{
	struct bpf_map *map;
	u32 id = 0;

	percpu_down_write(&srv->hot_rwsem);
	map = srv->hot_map;
	if (map) {
		xkv_store_detach_hot(srv->st);
		srv->hot_map = NULL;
	}
	percpu_up_write(&srv->hot_rwsem);
	if (map) {
		id = map->id;
		bpf_map_put(map);
		pr_info("hot cache detached: map id %u\n", id);
	}
	return id;
}

static long xkvm_ctl_info(struct xkvm_server *srv, void __user *uarg)
{
	struct xkv_ioc_info info = {
		.abi = XKV_IOC_ABI,
		.tcp_port = srv->set.tcp_port,
		.udp_port = srv->set.udp_port,
	};

	percpu_down_read(&srv->hot_rwsem);
	if (srv->hot_map) {
		info.hot_map_id = srv->hot_map->id;
		info.hot_nslots = srv->hot_map->max_entries;
		xkv_store_hot_stats(srv->st, &info.hot_installs,
				    &info.hot_rejects);
	}
	percpu_up_read(&srv->hot_rwsem);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long xkvm_ctl_store_info(void __user *uarg)
{
	struct xkv_ioc_store info;

	xkvm_kfunc_info(&info);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long xkvm_ctl_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct xkvm_server *srv = READ_ONCE(xkvm_srv);

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	if (WARN_ON_ONCE(!srv))
		return -ENODEV;
	switch (cmd) {
	case XKV_IOC_INFO:
		return xkvm_ctl_info(srv, (void __user *)arg);
	case XKV_IOC_HOT_ATTACH:
		return xkvm_ctl_attach(srv, (void __user *)arg);
	case XKV_IOC_HOT_DETACH:
		return xkvm_ctl_detach(srv) ? 0 : -ENOENT;
	case XKV_IOC_LIVE_ATTACH:
		return xkvm_ctl_live_attach(srv, (void __user *)arg);
	case XKV_IOC_TCP_ATTACH:
		return xkvm_ctl_tcp_attach(srv, (void __user *)arg);
	case XKV_IOC_TCP_DETACH:
		return xkvm_ctl_tcp_detach(srv) ? 0 : -ENOENT;
	case XKV_IOC_STORE_INFO:
		return xkvm_ctl_store_info((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static int xkvm_ctl_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	return nonseekable_open(inode, file);
}

static const struct file_operations xkvm_ctl_fops = {
	.owner = THIS_MODULE,
	.open = xkvm_ctl_open,
	.unlocked_ioctl = xkvm_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice xkvm_ctl_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = XKV_DEV_NAME,
	.fops = &xkvm_ctl_fops,
	.mode = 0600,
};

/**
 * xkvm_ctl_register() - create /dev/xkv.
 *
 * Call it once the server is fully started: the ioctls may run from then
 * on.
 *
 * Return: 0 or -errno.
 */
int xkvm_ctl_register(void)
{
	int err;

	err = misc_register(&xkvm_ctl_dev);
	if (err)
		pr_err("cannot create /dev/%s: %d\n", XKV_DEV_NAME, err);
	return err;
}

/**
 * xkvm_ctl_unregister() - remove /dev/xkv and let go of the hot cache.
 * @srv: the server, still serving
 *
 * Nobody has the device open any more (each open file holds a module
 * reference). The slots are emptied before the map is released.
 */
void xkvm_ctl_unregister(struct xkvm_server *srv)
{
	misc_deregister(&xkvm_ctl_dev);
	xkvm_ctl_tcp_detach(srv);
	xkvm_ctl_live_detach(srv);
	xkvm_ctl_detach(srv);
}
