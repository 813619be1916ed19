/* SPDX-License-Identifier: MIT */
/*
 * ops.c -- the FUSE low-level operations table of nvfs, and nothing else.
 * The handlers live in fs.c (init, destroy), ops_entry.c (names),
 * ops_attr.c (attributes, xattrs), ops_file.c (open files, locks) and
 * ops_dir.c (directories).
 */
#include "fs_int.h"

const struct fuse_lowlevel_ops nvfs_ll_ops = {
	.init            = nvfs_ll_init,
	.destroy         = nvfs_ll_destroy,
	/* names */
	.lookup          = nvfs_ll_lookup,
	.forget          = nvfs_ll_forget,
	.forget_multi    = nvfs_ll_forget_multi,
	.mknod           = nvfs_ll_mknod,
	.mkdir           = nvfs_ll_mkdir,
	.symlink         = nvfs_ll_symlink,
	.link            = nvfs_ll_link,
	.unlink          = nvfs_ll_unlink,
	.rmdir           = nvfs_ll_rmdir,
	.rename          = nvfs_ll_rename,
	/* attributes */
	.getattr         = nvfs_ll_getattr,
	.setattr         = nvfs_ll_setattr,
	.readlink        = nvfs_ll_readlink,
	.statfs          = nvfs_ll_statfs,
	.access          = nvfs_ll_access,
	.setxattr        = nvfs_ll_setxattr,
	.getxattr        = nvfs_ll_getxattr,
	.listxattr       = nvfs_ll_listxattr,
	.removexattr     = nvfs_ll_removexattr,
	/* open files */
	.create          = nvfs_ll_create,
	.open            = nvfs_ll_open,
	.read            = nvfs_ll_read,
	.write_buf       = nvfs_ll_write_buf,
	.flush           = nvfs_ll_flush,
	.release         = nvfs_ll_release,
	.fsync           = nvfs_ll_fsync,
	.fallocate       = nvfs_ll_fallocate,
	.copy_file_range = nvfs_ll_copy_file_range,
	.lseek           = nvfs_ll_lseek,
	.flock           = nvfs_ll_flock,
	.getlk           = nvfs_ll_getlk,
	.setlk           = nvfs_ll_setlk,
	/* directories */
	.opendir         = nvfs_ll_opendir,
	.readdir         = nvfs_ll_readdir,
	.readdirplus     = nvfs_ll_readdirplus,
	.releasedir      = nvfs_ll_releasedir,
	.fsyncdir        = nvfs_ll_fsyncdir,
};
