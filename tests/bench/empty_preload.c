/* SPDX-License-Identifier: Apache-2.0 */
/* empty_preload: a shared library with nothing in it, preloaded by the
 * bench to show what loading any library costs before the shim's share. */
int mxv_empty_preload_marker;
