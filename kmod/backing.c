// SPDX-License-Identifier: GPL-2.0
/*
 * Backings: the memory behind RAM-like regions (struct memtopo_backing in
 * memtopo/memtopo.h), one reference-counted object per region that kernel
 * users may keep alive past the region.
 *
 *  - FILE: a struct file reference and an offset (KVM's guest_memfd and
 *    KVM_SET_USER_MEMORY_REGION2, vhost-user and rust-vmm's FileOffset).
 *    Bytes move through the page cache with kernel_read()/kernel_write(),
 *    so memfd and tmpfs work and the VMM's own mmap of the file sees them
 *    at once.  hugetlbfs has no write_iter: its writes and its pages go
 *    through the huge pages of its page cache directly.
 *  - KERNEL: vmalloc() memory allocated here (charged to the caller's memcg
 *    and, with the region, to the context's budget) at @kaddr, mmap-able
 *    through the context's fd at @mmap_offset (DRM's fake offsets).  The
 *    offsets come from one module-wide counter and are never
 *    reused, so a stale offset names nothing.  Mappings are served by
 *    faults and write-protected while their region logs dirty pages (KVM's
 *    write-protect model): see "Mappings" below.
 *  - PROCESS: an address range of the creating process, reached from
 *    anywhere through its mm with get_user_pages_remote(); once that
 *    process is gone (mmget_not_zero() fails) accesses fail with -ESRCH.
 *  - NONE: a label (the legacy userspace address) that nothing reaches.
 *
 * A backing's last reference can be dropped from the region's RCU callback,
 * and fput(), vfree() and mmdrop() want process context: the release only
 * queues the backing on memtopo_backing_wq, drained at module exit after
 * every region is freed.
 */
#include <linux/atomic.h>
#include <linux/falloc.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "memtopo_main.h"
#include "memtopo_internal.h"

struct memtopo_kbacking {
	struct memtopo_backing b;
	struct work_struct release_work;
	/* KERNEL: pages at b.kaddr (vmalloc()ed, rounded up to whole pages) */
	unsigned long nr_pages;
	/* KERNEL: live VMAs mapping it; write-protecting none costs nothing */
	atomic_t nr_vmas;
};

/* the pseudo filesystem holding the one inode all mappings go through */
#define MEMTOPO_FS_MAGIC 0x6d746f70

static struct workqueue_struct *memtopo_backing_wq;
static atomic64_t memtopo_backing_ids = ATOMIC64_INIT(0);
/* next fake mmap offset, in pages; offset 0 is never handed out */
static atomic64_t memtopo_mmap_next = ATOMIC64_INIT(1);

static struct memtopo_kbacking *to_kb(struct memtopo_backing *b)
{
	return container_of(b, struct memtopo_kbacking, b);
}

static void memtopo_backing_free_work(struct work_struct *work)
{
	struct memtopo_kbacking *kb = container_of(work, struct memtopo_kbacking, release_work);

	/* no mapping is left: each holds the backing */
	vfree(kb->b.kaddr);
	if (kb->b.file)
		fput(kb->b.file);
	if (kb->b.mm)
		mmdrop(kb->b.mm);
	kfree(kb);
}

static void memtopo_backing_release(struct memtopo_backing *b)
{
	queue_work(memtopo_backing_wq, &to_kb(b)->release_work);
}

static int memtopo_kernel_access(struct memtopo_backing *b, u64 offset, void *buf, size_t len,
				 bool write)
{
	if (write)
		memcpy((u8 *)b->kaddr + offset, buf, len);
	else
		memcpy(buf, (u8 *)b->kaddr + offset, len);
	return 0;
}

static int memtopo_file_access(struct memtopo_backing *b, u64 offset, void *buf, size_t len,
			       bool write)
{
	loff_t pos = b->file_offset + offset;
	ssize_t n;

	/* a file shrunk since: its bytes past the end are gone, as for mmap */
	if (pos + (loff_t)len > i_size_read(file_inode(b->file)))
		return -ENXIO;
	if (write) {
		if (!(b->file->f_mode & FMODE_CAN_WRITE))
			return -EOPNOTSUPP;
		n = kernel_write(b->file, buf, len, &pos);
	} else {
		n = kernel_read(b->file, buf, len, &pos);
	}
	if (n < 0)
		return n;
	return n == len ? 0 : -ENXIO;
}

#ifdef CONFIG_HUGETLBFS
static bool memtopo_file_is_hugetlb(struct file *file)
{
	return file_inode(file)->i_sb->s_magic == HUGETLBFS_MAGIC;
}

/* Sealed against writes (a memfd made with MFD_HUGETLB): mmap refuses too. */
static bool memtopo_hugetlb_sealed(struct file *file)
{
	return HUGETLBFS_I(file_inode(file))->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
}

/*
 * The huge page of @b's file that holds byte @pos, locked and referenced.
 * A hole is filled first, as a fault of a shared mapping of the file
 * would fill it (hugetlbfs allocates, zeroes and inserts the page under its
 * fault mutex), which takes a file open for writing: a hole in a read-only
 * one is -ENXIO.  The page lock keeps a truncation or hole punch, which
 * takes it before removing the page, from passing us while we copy.
 */
static struct page *memtopo_hugetlb_page(struct memtopo_backing *b, loff_t pos)
{
	struct hstate *h = hstate_file(b->file);
	pgoff_t idx = pos >> huge_page_shift(h);
	struct page *page;
	int ret;

	page = memtopo_hugetlb_lock_page(h, b->file->f_mapping, idx);
	if (!page) {
		if (!(b->file->f_mode & FMODE_WRITE))
			return ERR_PTR(-ENXIO);
		ret = vfs_fallocate(b->file, FALLOC_FL_KEEP_SIZE, pos & huge_page_mask(h),
				    huge_page_size(h));
		if (ret)
			return ERR_PTR(ret);
		page = memtopo_hugetlb_lock_page(h, b->file->f_mapping, idx);
		/* truncated again since */
		if (!page)
			return ERR_PTR(-ENXIO);
	}
	if (PageHWPoison(page)) {
		unlock_page(page);
		put_page(page);
		return ERR_PTR(-EIO);
	}
	return page;
}

/*
 * hugetlbfs reads through its read_iter (holes read as zeros); writes are
 * copied into the huge pages, base page by base page.  hugetlbfs keeps its
 * cached pages dirty for their whole life, so there is nothing to mark.
 */
static int memtopo_hugetlb_access(struct memtopo_backing *b, u64 offset, void *buf, size_t len,
				  bool write)
{
	struct hstate *h = hstate_file(b->file);
	loff_t pos = b->file_offset + offset;
	struct page *head, *sub;
	u8 *p = buf;
	size_t n;
	void *k;

	if (!write)
		return memtopo_file_access(b, offset, buf, len, false);
	if (pos + (loff_t)len > i_size_read(file_inode(b->file)))
		return -ENXIO;
	if (memtopo_hugetlb_sealed(b->file))
		return -EPERM;
	while (len) {
		head = memtopo_hugetlb_page(b, pos);
		if (IS_ERR(head))
			return PTR_ERR(head);
		/* up to the end of this huge page */
		do {
			sub = nth_page(head, (pos & ~huge_page_mask(h)) >> PAGE_SHIFT);
			n = min_t(size_t, len, PAGE_SIZE - offset_in_page(pos));
			k = kmap_local_page(sub);
			memcpy(k + offset_in_page(pos), p, n);
			kunmap_local(k);
			flush_dcache_page(sub);
			pos += n;
			p += n;
			len -= n;
		} while (len && (pos & ~huge_page_mask(h)));
		unlock_page(head);
		put_page(head);
	}
	return 0;
}

/* The base pages of a hugetlbfs file's huge pages, one reference each. */
static int memtopo_hugetlb_get_pages(struct memtopo_backing *b, u64 offset, unsigned int nr,
				     bool write, struct page **pages)
{
	struct hstate *h = hstate_file(b->file);
	loff_t pos = b->file_offset + offset;
	unsigned int i = 0, first, n;
	struct page *head;
	int ret = 0;

	if (pos + ((loff_t)nr << PAGE_SHIFT) > i_size_read(file_inode(b->file)))
		return -ENXIO;
	if (write && memtopo_hugetlb_sealed(b->file))
		return -EPERM;
	while (i < nr) {
		head = memtopo_hugetlb_page(b, pos);
		if (IS_ERR(head)) {
			ret = PTR_ERR(head);
			break;
		}
		first = (pos & ~huge_page_mask(h)) >> PAGE_SHIFT;
		n = min(nr - i, pages_per_huge_page(h) - first);
		pos += (loff_t)n << PAGE_SHIFT;
		/* each base page's reference holds the huge page */
		while (n--) {
			pages[i] = nth_page(head, first++);
			get_page(pages[i++]);
		}
		unlock_page(head);
		put_page(head);
	}
	if (ret) {
		while (i--)
			put_page(pages[i]);
	}
	return ret;
}
#else
static bool memtopo_file_is_hugetlb(struct file *file)
{
	return false;
}

#define memtopo_hugetlb_access NULL

static int memtopo_hugetlb_get_pages(struct memtopo_backing *b, u64 offset, unsigned int nr,
				     bool write, struct page **pages)
{
	return -EOPNOTSUPP;
}
#endif /* CONFIG_HUGETLBFS */

/* Copy through the owner's page tables, one page at a time. */
static int memtopo_process_access(struct memtopo_backing *b, u64 offset, void *buf,
				  size_t len, bool write)
{
	struct mm_struct *mm = b->mm;
	unsigned long addr = b->uaddr + offset;
	u8 *p = buf;
	int ret = 0;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - offset_in_page(addr));
		struct page *page;
		void *k;
		long got;

		got = memtopo_gup_remote(mm, addr, 1, write ? FOLL_WRITE : 0, &page);
		if (got != 1) {
			ret = got < 0 ? got : -EFAULT;
			break;
		}
		k = kmap_local_page(page);
		if (write) {
			memcpy(k + offset_in_page(addr), p, n);
			set_page_dirty_lock(page);
		} else {
			memcpy(p, k + offset_in_page(addr), n);
		}
		kunmap_local(k);
		put_page(page);
		addr += n;
		p += n;
		len -= n;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

static void memtopo_kernel_write_protect(struct memtopo_backing *b, u64 offset, u64 len);

static const struct memtopo_backing_ops memtopo_kernel_ops = {
	.release = memtopo_backing_release,
	.access = memtopo_kernel_access,
	.write_protect = memtopo_kernel_write_protect,
};

static const struct memtopo_backing_ops memtopo_file_ops = {
	.release = memtopo_backing_release,
	.access = memtopo_file_access,
};

static const struct memtopo_backing_ops memtopo_hugetlb_ops = {
	.release = memtopo_backing_release,
	.access = memtopo_hugetlb_access,
};

static const struct memtopo_backing_ops memtopo_process_ops = {
	.release = memtopo_backing_release,
	.access = memtopo_process_access,
};

static const struct memtopo_backing_ops memtopo_label_ops = {
	.release = memtopo_backing_release,
};

static struct memtopo_kbacking *memtopo_kb_alloc(u8 kind, u64 size,
						 const struct memtopo_backing_ops *ops)
{
	struct memtopo_kbacking *kb = kzalloc(sizeof(*kb), GFP_KERNEL_ACCOUNT);

	if (!kb)
		return NULL;
	refcount_set(&kb->b.ref, 1);
	kb->b.kind = kind;
	kb->b.size = size;
	kb->b.ops = ops;
	kb->b.charge = sizeof(*kb);
	kb->b.id = atomic64_inc_return(&memtopo_backing_ids);
	INIT_WORK(&kb->release_work, memtopo_backing_free_work);
	return kb;
}

/**
 * memtopo_backing_kernel_alloc() - kernel-owned RAM.
 * @size: bytes, at least 1; rounded up to pages (the tail is mmap-able but
 *	dispatch stops at @size).
 *
 * The memory is zeroed and charged to the caller's memory cgroup; the
 * backing's @charge (what a region holding it charges to its context's
 * budget) counts it.
 *
 * Context: process context; sleeps.  No lock needed.
 * Return: the backing with one reference, or ERR_PTR(): -EINVAL for a
 * @size of 0, -E2BIG for one no mmap offset can cover, -ENOMEM.
 */
struct memtopo_backing *memtopo_backing_kernel_alloc(u64 size)
{
	struct memtopo_kbacking *kb;
	unsigned long nr;

	if (!size)
		return ERR_PTR(-EINVAL);
	/* the mmap offset counter must not pass what loff_t can name */
	if (size > (u64)MAX_LFS_FILESIZE / 2)
		return ERR_PTR(-E2BIG);
	nr = DIV_ROUND_UP_ULL(size, PAGE_SIZE);
	kb = memtopo_kb_alloc(MEMTOPO_BACKING_KERNEL, size, &memtopo_kernel_ops);
	if (!kb)
		return ERR_PTR(-ENOMEM);
	kb->b.kaddr = __vmalloc((unsigned long)nr << PAGE_SHIFT,
				GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN);
	if (!kb->b.kaddr) {
		/* never shared: freed here rather than through the workqueue */
		kfree(kb);
		return ERR_PTR(-ENOMEM);
	}
	kb->nr_pages = nr;
	kb->b.writable = true;
	kb->b.charge += (size_t)nr << PAGE_SHIFT;
	kb->b.mmap_offset = (u64)atomic64_fetch_add(nr, &memtopo_mmap_next) << PAGE_SHIFT;
	return &kb->b;
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_kernel_alloc, MEMTOPO);

/**
 * memtopo_backing_file() - RAM in a file, from @offset for @size bytes.
 * @file: the file; the backing takes its own reference.
 * @offset: where the region starts in the file, page-aligned.
 * @size: bytes, page-aligned, at least one page.
 * @writable: the memory is written through memtopo (RAM); the file must
 *	then be open for writing.  A ROM only reads it.
 *
 * Context: process context.  No lock needed.
 * Return: the backing with one reference, or ERR_PTR(): -EINVAL for an
 * unaligned or zero @offset/@size (or a sum past 2^63), -ENODEV for a file
 * that cannot be mmap()ed, -EACCES for a file not open for reading (or
 * writing, with @writable), -ENXIO if the file ends before @offset + @size,
 * -ENOMEM.
 */
struct memtopo_backing *memtopo_backing_file(struct file *file, u64 offset, u64 size,
					     bool writable)
{
	struct memtopo_kbacking *kb;

	if (!size || !PAGE_ALIGNED(size) || !PAGE_ALIGNED(offset) ||
	    offset > (u64)MAX_LFS_FILESIZE || size > (u64)MAX_LFS_FILESIZE - offset)
		return ERR_PTR(-EINVAL);
	if (!file->f_op->mmap)
		return ERR_PTR(-ENODEV);
	if (!(file->f_mode & FMODE_READ) || (writable && !(file->f_mode & FMODE_WRITE)))
		return ERR_PTR(-EACCES);
	if (offset + size > i_size_read(file_inode(file)))
		return ERR_PTR(-ENXIO);
	kb = memtopo_kb_alloc(MEMTOPO_BACKING_FILE, size,
			      memtopo_file_is_hugetlb(file) ? &memtopo_hugetlb_ops :
							      &memtopo_file_ops);
	if (!kb)
		return ERR_PTR(-ENOMEM);
	kb->b.file = get_file(file);
	kb->b.file_offset = offset;
	kb->b.writable = writable;
	return &kb->b;
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_file, MEMTOPO);

/**
 * memtopo_backing_process() - RAM at @uaddr of the calling process.
 * @uaddr: page-aligned address in current->mm.
 * @size: bytes, page-aligned, at least one page.
 *
 * The whole range must be mapped now (it may be unmapped later: accesses
 * then fail with -EFAULT).  The backing records the mm, not the task: a
 * thread of the process may create it and another may exit.
 *
 * Context: process context of the owner; takes its mmap lock.
 * Return: the backing with one reference, or ERR_PTR(): -EINVAL for an
 * unaligned or zero range, -EFAULT for a range that is not user memory or
 * not entirely mapped, -ESRCH from a kernel thread, -EINTR, -ENOMEM.
 */
struct memtopo_backing *memtopo_backing_process(u64 uaddr, u64 size)
{
	struct mm_struct *mm = current->mm;
	struct memtopo_kbacking *kb;
	struct vm_area_struct *vma;
	u64 addr;

	if (!size || !PAGE_ALIGNED(size) || !PAGE_ALIGNED(uaddr))
		return ERR_PTR(-EINVAL);
	if (!mm)
		return ERR_PTR(-ESRCH);
	if (uaddr + size < uaddr || !access_ok(u64_to_user_ptr(uaddr), size))
		return ERR_PTR(-EFAULT);
	if (mmap_read_lock_killable(mm))
		return ERR_PTR(-EINTR);
	for (addr = uaddr; addr < uaddr + size; addr = vma->vm_end) {
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start > addr) {
			mmap_read_unlock(mm);
			return ERR_PTR(-EFAULT);
		}
	}
	mmap_read_unlock(mm);
	kb = memtopo_kb_alloc(MEMTOPO_BACKING_PROCESS, size, &memtopo_process_ops);
	if (!kb)
		return ERR_PTR(-ENOMEM);
	mmgrab(mm);
	kb->b.mm = mm;
	kb->b.uaddr = uaddr;
	kb->b.writable = true;
	return &kb->b;
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_process, MEMTOPO);

/**
 * memtopo_backing_label() - a backing nothing reaches, carrying a
 * userspace address for listeners (a VMM that only mirrors the map).
 * @uaddr: the label, not checked.
 *
 * Context: process context.
 * Return: the backing with one reference, or ERR_PTR(-ENOMEM).
 */
struct memtopo_backing *memtopo_backing_label(u64 uaddr)
{
	struct memtopo_kbacking *kb = memtopo_kb_alloc(MEMTOPO_BACKING_NONE, 0,
						       &memtopo_label_ops);

	if (!kb)
		return ERR_PTR(-ENOMEM);
	kb->b.uaddr = uaddr;
	return &kb->b;
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_label, MEMTOPO);

/**
 * memtopo_backing_access() - copy bytes to or from a backing.
 * @b: the backing, referenced by the caller (directly or through a live
 *	region).
 * @offset: first byte within the backing.
 * @buf: kernel buffer of @len bytes.
 * @len: bytes.
 * @write: copy @buf into the backing, else out of it.
 *
 * Nothing is marked dirty here: memtopo_space_write() does that for the
 * region that was written.
 *
 * Context: process context; may sleep (page cache, page faults in the
 * owner's mm).  No memtopo lock needed; do not hold a context mutex
 * across it when the backing is a process the context mutex holder waits
 * on.
 * Return: 0; -EINVAL for a range outside the backing; -EOPNOTSUPP for a
 * NONE backing or a file that cannot be written; -EROFS writing a backing
 * that is not writable; FILE: -ENXIO for bytes past the file's current
 * end, kernel_read()/kernel_write() errors (-EPERM for a sealed memfd);
 * a hugetlbfs file's write into a hole allocates its huge page first:
 * -ENOMEM or -ENOSPC when the pool has none free, -EINTR, -EIO for a
 * poisoned huge page; PROCESS: -ESRCH once the owner's address space is gone,
 * -EFAULT for an address no longer mapped (or written while mapped
 * read-only), -EINTR.
 */
int memtopo_backing_access(struct memtopo_backing *b, u64 offset, void *buf, size_t len,
			   bool write)
{
	/* a label's size is 0: what it lacks is memory, not room */
	if (!b->ops->access)
		return -EOPNOTSUPP;
	if (offset > b->size || len > b->size - offset)
		return -EINVAL;
	if (write && !b->writable)
		return -EROFS;
	if (!len)
		return 0;
	return b->ops->access(b, offset, buf, len, write);
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_access, MEMTOPO);

/**
 * memtopo_backing_get_pages() - the pages holding a page-aligned range of
 * a backing, each with a reference (put_page() them).
 * @b: the backing, referenced by the caller.
 * @offset: page-aligned offset within the backing.
 * @nr: pages wanted.
 * @write: the caller will write them (they are marked dirty when found;
 *	mark them again with set_page_dirty_lock() after writing).
 * @pages: @nr slots.
 *
 * What a kernel consumer maps (vmap()) or hands to DMA.  Pages stay valid
 * while referenced even if the backing goes; a file truncated or a
 * process range unmapped meanwhile no longer shows them.  A hugetlbfs
 * file gives the base pages of its huge pages (each reference holds the
 * whole huge page), filling holes as a fault of a shared mapping would.
 *
 * Context: process context; may sleep.
 * Return: 0 and all @nr pages, or an error and none: -EINVAL for a range
 * outside the backing or unaligned; -EOPNOTSUPP for a NONE backing or a
 * file whose page cache cannot be read; -EROFS for @write on a read-only
 * backing; -ESRCH, -EFAULT, -EINTR for a process backing as
 * memtopo_backing_access(); a page-cache read error; hugetlbfs: -ENXIO
 * for pages past the file's end or a hole in a file not open for writing,
 * -EPERM for @write on a write-sealed memfd, -ENOMEM or -ENOSPC when a
 * hole needs a huge page the pool does not have, -EIO for a poisoned one;
 * -ENOMEM.
 */
int memtopo_backing_get_pages(struct memtopo_backing *b, u64 offset, unsigned int nr,
			      bool write, struct page **pages)
{
	unsigned int i = 0;
	int ret = 0;

	if (b->kind == MEMTOPO_BACKING_NONE)
		return -EOPNOTSUPP;
	if (!PAGE_ALIGNED(offset) || offset > b->size ||
	    (u64)nr << PAGE_SHIFT > round_up(b->size, PAGE_SIZE) - offset)
		return -EINVAL;
	if (write && !b->writable)
		return -EROFS;
	switch (b->kind) {
	case MEMTOPO_BACKING_KERNEL:
		for (i = 0; i < nr; i++) {
			pages[i] = vmalloc_to_page(b->kaddr + offset + ((size_t)i << PAGE_SHIFT));
			get_page(pages[i]);
		}
		return 0;
	case MEMTOPO_BACKING_FILE: {
		struct address_space *mapping = b->file->f_mapping;
		pgoff_t index = (b->file_offset + offset) >> PAGE_SHIFT;

		/* hugetlbfs indexes its cache by huge page; others need ->read_folio */
		if (b->ops == &memtopo_hugetlb_ops)
			return memtopo_hugetlb_get_pages(b, offset, nr, write, pages);
		if (!shmem_mapping(mapping) && !mapping->a_ops->read_folio)
			return -EOPNOTSUPP;
		for (i = 0; i < nr; i++) {
			struct page *page = shmem_mapping(mapping) ?
					    shmem_read_mapping_page(mapping, index + i) :
					    read_cache_page(mapping, index + i, NULL, b->file);

			if (IS_ERR(page)) {
				ret = PTR_ERR(page);
				break;
			}
			if (write)
				set_page_dirty_lock(page);
			pages[i] = page;
		}
		break;
	}
	case MEMTOPO_BACKING_PROCESS: {
		struct mm_struct *mm = b->mm;
		long got;

		if (!mmget_not_zero(mm))
			return -ESRCH;
		if (mmap_read_lock_killable(mm)) {
			mmput(mm);
			return -EINTR;
		}
		for (i = 0; i < nr; i += got) {
			got = memtopo_gup_remote(mm, b->uaddr + offset + ((u64)i << PAGE_SHIFT),
						 nr - i, write ? FOLL_WRITE : 0, pages + i);
			if (got <= 0) {
				ret = got < 0 ? got : -EFAULT;
				break;
			}
		}
		mmap_read_unlock(mm);
		mmput(mm);
		break;
	}
	default:
		return -EOPNOTSUPP;
	}
	if (ret) {
		while (i--)
			put_page(pages[i]);
	}
	return ret;
}
EXPORT_SYMBOL_NS_GPL(memtopo_backing_get_pages, MEMTOPO);

/*
 * The kernel-owned RAM of @ctx that the mmap offset @off falls in, with a
 * reference, and in *@region the ID of the region it was found through; or
 * NULL.  Only a live region of @ctx is found, so one context's fd never
 * reaches another's memory, nor a destroyed region's.  The walk (linear in
 * the context's regions: mmap is rare) takes no mutex: mmap() holds the
 * mmap lock, which a context mutex or file mutex holder may need to fault
 * in a user buffer.  Regions are freed only after an RCU grace period.
 */
static struct memtopo_backing *
memtopo_backing_find_mmap(struct memtopo_ctx *ctx, u64 off, u32 *region)
{
	struct memtopo_backing *found = NULL, *b;
	struct memtopo_region *mr;
	unsigned long id;

	rcu_read_lock();
	xa_for_each(&ctx->objects, id, mr) {
		b = READ_ONCE(mr->backing);
		if (b && b->kind == MEMTOPO_BACKING_KERNEL && off >= b->mmap_offset &&
		    off - b->mmap_offset < round_up(b->size, PAGE_SIZE) &&
		    refcount_inc_not_zero(&b->ref)) {
			found = b;
			*region = id;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/*
 * Mappings.  One address_space serves every /dev/memtopo file (their
 * f_mapping, as DRM's and VFIO's device files), so unmap_mapping_range() at
 * a backing's fake offset reaches its mappings in every process through any
 * file, whatever device node was opened.
 *
 * A mapping is served by faults, never prefilled: a read fault maps the
 * page read-only (vm_page_prot without write, since the VMA has
 * ->page_mkwrite), and the first write faults to memtopo_kmap_mkwrite(),
 * which marks the page dirty in its region's log before the PTE becomes
 * writable.  Write-protecting (memtopo_kernel_write_protect(), when logging
 * starts and when bits are cleared) zaps the PTEs so the next write faults
 * again.  The page lock closes the race between the two: ->page_mkwrite
 * takes it before marking and the fault path keeps it until the PTE is
 * writable; the write-protect takes it before zapping.  So a page marked
 * before its bit is fetched and cleared cannot keep a writable PTE past
 * the zap, and a fault that saw logging off installs its PTE before the
 * zap that follows logging on.  This is KVM's write-protect model, and
 * the fbdev deferred-I/O one.  Pages keep no mapping or index: ->page_mkwrite
 * returns them locked, so the core does not look for one.
 *
 * A VMA holds the backing (so the pages stay until munmap(), after the
 * region and its backing are gone) and the context it was mapped in (the
 * file may attach to another one meanwhile); it marks the region of that
 * context it was mapped through, found by ID under RCU at each write fault:
 * once that region is destroyed, writes go on unlogged.  A context's last
 * reference takes its mutex, which the mmap lock's holder cannot take
 * (mutex holders fault on user memory): the VMA's references are dropped
 * from a work item.
 */
struct memtopo_kmap {
	struct memtopo_backing *b;
	struct memtopo_ctx *ctx;
	u32 region;
	/* VMAs sharing this (a split, mremap() or fork() copies the pointer) */
	refcount_t users;
	struct work_struct put_work;
};

static struct vfsmount *memtopo_kmap_mnt;
static struct inode *memtopo_kmap_inode;

/* pages locked and zapped at once by a write-protect */
#define MEMTOPO_WP_BATCH 32

static void memtopo_kernel_write_protect(struct memtopo_backing *b, u64 offset, u64 len)
{
	struct memtopo_kbacking *kb = to_kb(b);
	struct page *pages[MEMTOPO_WP_BATCH];
	unsigned long first, end, n, i;

	might_sleep();
	/*
	 * Pairs with memtopo_kmap_count(): either the VMA is counted here,
	 * or its faults see the log state the caller just published.
	 */
	smp_mb();
	if (!len || offset >= b->size || !atomic_read(&kb->nr_vmas))
		return;
	first = offset >> PAGE_SHIFT;
	end = min_t(u64, DIV_ROUND_UP_ULL(offset + min(len, b->size - offset), PAGE_SIZE),
		    kb->nr_pages);
	for (; first < end; first += n) {
		n = min(end - first, (unsigned long)MEMTOPO_WP_BATCH);
		/* ascending, as every write-protect: faults hold one page lock at most */
		for (i = 0; i < n; i++) {
			pages[i] = vmalloc_to_page(b->kaddr + ((first + i) << PAGE_SHIFT));
			lock_page(pages[i]);
		}
		unmap_mapping_range(memtopo_kmap_inode->i_mapping,
				    b->mmap_offset + ((u64)first << PAGE_SHIFT),
				    (u64)n << PAGE_SHIFT, 0);
		for (i = 0; i < n; i++)
			unlock_page(pages[i]);
	}
}

static void memtopo_kmap_put_work(struct work_struct *work)
{
	struct memtopo_kmap *km = container_of(work, struct memtopo_kmap, put_work);

	memtopo_ctx_put(km->ctx);
	memtopo_backing_put(km->b);
	kfree(km);
}

static void memtopo_kmap_count(struct memtopo_kmap *km)
{
	atomic_inc(&to_kb(km->b)->nr_vmas);
	/* pairs with the barrier in memtopo_kernel_write_protect() */
	smp_mb__after_atomic();
}

static void memtopo_kmap_open(struct vm_area_struct *vma)
{
	struct memtopo_kmap *km = vma->vm_private_data;

	refcount_inc(&km->users);
	memtopo_kmap_count(km);
}

/* After the VMA's PTEs are gone. */
static void memtopo_kmap_close(struct vm_area_struct *vma)
{
	struct memtopo_kmap *km = vma->vm_private_data;

	atomic_dec(&to_kb(km->b)->nr_vmas);
	if (refcount_dec_and_test(&km->users))
		queue_work(memtopo_backing_wq, &km->put_work);
}

/* The page of @km's backing at @vmf's offset, or NULL past its end. */
static struct page *memtopo_kmap_page(struct memtopo_kmap *km, struct vm_fault *vmf, u64 *off)
{
	pgoff_t first = km->b->mmap_offset >> PAGE_SHIFT;

	if (vmf->pgoff < first || vmf->pgoff - first >= to_kb(km->b)->nr_pages)
		return NULL;
	*off = (u64)(vmf->pgoff - first) << PAGE_SHIFT;
	return vmalloc_to_page(km->b->kaddr + *off);
}

static vm_fault_t memtopo_kmap_fault(struct vm_fault *vmf)
{
	struct page *page;
	u64 off;

	page = memtopo_kmap_page(vmf->vma->vm_private_data, vmf, &off);
	if (!page)
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static vm_fault_t memtopo_kmap_mkwrite(struct vm_fault *vmf)
{
	struct memtopo_kmap *km = vmf->vma->vm_private_data;
	struct memtopo_region *mr;
	u64 off;

	if (memtopo_kmap_page(km, vmf, &off) != vmf->page)
		return VM_FAULT_SIGBUS;
	/* kept by the fault path until the PTE is writable: see "Mappings" */
	lock_page(vmf->page);
	rcu_read_lock();
	mr = xa_load(&km->ctx->objects, km->region);
	if (mr && mr->backing == km->b)
		memtopo_mark_dirty(mr, off, PAGE_SIZE);
	rcu_read_unlock();
	return VM_FAULT_LOCKED;
}

static const struct vm_operations_struct memtopo_kmap_ops = {
	.open = memtopo_kmap_open,
	.close = memtopo_kmap_close,
	.fault = memtopo_kmap_fault,
	.page_mkwrite = memtopo_kmap_mkwrite,
};

/**
 * memtopo_backing_mapping() - the address_space every /dev/memtopo file
 * uses as its f_mapping.
 *
 * Context: any, between memtopo_backing_init() and memtopo_backing_exit().
 * Return: the address_space.
 */
struct address_space *memtopo_backing_mapping(void)
{
	return memtopo_kmap_inode->i_mapping;
}

/**
 * memtopo_backing_kmap_alloc() - what memtopo_backing_mmap() needs, allocated
 * before the caller takes the lock it runs under.
 *
 * Context: process context; sleeps.
 * Return: the object (kfree() it unless memtopo_backing_mmap() took it), or
 * NULL.
 */
struct memtopo_kmap *memtopo_backing_kmap_alloc(void)
{
	return kzalloc(sizeof(struct memtopo_kmap), GFP_KERNEL_ACCOUNT);
}

/**
 * memtopo_backing_mmap() - map kernel-owned RAM of @ctx into a process.
 * @ctx: the context of the file being mapped; the mapping takes a
 *	reference, the caller keeps @ctx alive meanwhile.
 * @vma: the new mapping: shared, its offset and length within one
 *	kernel-owned backing of a live region of @ctx.
 * @km: from memtopo_backing_kmap_alloc().
 *
 * Nothing is mapped yet: faults map the pages (see "Mappings" above).  The
 * mapping holds the backing, so it stays valid after the region and its
 * backing are gone, and marks writes dirty in that region's log.
 *
 * Context: ->mmap(): the mmap lock held for writing; does not sleep (the
 * caller holds the spinlock that keeps its file's context).
 * Return: 0 and @km is the mapping's; or @km is still the caller's and
 * -ENXIO for an offset no live kernel-owned RAM of @ctx has, or a mapping
 * running past its pages; -EINVAL for a private mapping.
 */
int memtopo_backing_mmap(struct memtopo_ctx *ctx, struct vm_area_struct *vma,
			 struct memtopo_kmap *km)
{
	struct memtopo_kbacking *kb;
	struct memtopo_backing *b;
	u32 region;
	u64 first;

	b = memtopo_backing_find_mmap(ctx, (u64)vma->vm_pgoff << PAGE_SHIFT, &region);
	if (!b)
		return -ENXIO;
	kb = to_kb(b);
	first = (((u64)vma->vm_pgoff << PAGE_SHIFT) - b->mmap_offset) >> PAGE_SHIFT;
	if (!(vma->vm_flags & VM_SHARED) ||
	    first >= kb->nr_pages || vma_pages(vma) > kb->nr_pages - first) {
		memtopo_backing_put(b);
		return vma->vm_flags & VM_SHARED ? -ENXIO : -EINVAL;
	}
	memtopo_ctx_get(ctx);
	km->b = b;
	km->ctx = ctx;
	km->region = region;
	refcount_set(&km->users, 1);
	INIT_WORK(&km->put_work, memtopo_kmap_put_work);
	memtopo_kmap_count(km);
	memtopo_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_private_data = km;
	vma->vm_ops = &memtopo_kmap_ops;
	return 0;
}

static int memtopo_kmap_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, MEMTOPO_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * Never registered, only mounted by the module for its inode; no owner:
 * the mount would pin the module that unmounts it at exit.
 */
static struct file_system_type memtopo_kmap_fs = {
	.name = "memtopo",
	.init_fs_context = memtopo_kmap_init_fs_context,
	.kill_sb = kill_anon_super,
};

/**
 * memtopo_backing_init() - module init: the release workqueue.
 *
 * Return: 0 or -ENOMEM.
 */
int memtopo_backing_init(void)
{
	int ret;

	memtopo_backing_wq = alloc_workqueue("memtopo_backing", WQ_UNBOUND, 0);
	if (!memtopo_backing_wq)
		return -ENOMEM;
	memtopo_kmap_mnt = kern_mount(&memtopo_kmap_fs);
	if (IS_ERR(memtopo_kmap_mnt)) {
		ret = PTR_ERR(memtopo_kmap_mnt);
		goto err_wq;
	}
	memtopo_kmap_inode = alloc_anon_inode(memtopo_kmap_mnt->mnt_sb);
	if (IS_ERR(memtopo_kmap_inode)) {
		ret = PTR_ERR(memtopo_kmap_inode);
		goto err_mnt;
	}
	return 0;

err_mnt:
	kern_unmount(memtopo_kmap_mnt);
err_wq:
	destroy_workqueue(memtopo_backing_wq);
	return ret;
}

/**
 * memtopo_backing_unmapped() - module exit, before anything else: run the
 * context and backing puts of mappings closed last.  No new ones come: a
 * mapping holds its file, which holds the module.
 */
void memtopo_backing_unmapped(void)
{
	flush_workqueue(memtopo_backing_wq);
}

/**
 * memtopo_backing_exit() - module exit, after the last region was freed
 * (rcu_barrier()): run every pending release.
 */
void memtopo_backing_exit(void)
{
	destroy_workqueue(memtopo_backing_wq);
	iput(memtopo_kmap_inode);
	kern_unmount(memtopo_kmap_mnt);
}
