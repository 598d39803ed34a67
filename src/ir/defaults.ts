/**
 * Defaults that are part of the IR contract: the compiler writes them into the IR
 * where a plan leaves a value out, and the runtime falls back to them and names them
 * in its messages. They live here, beside the IR types, so that both sides read one
 * constant without the runtime importing the compiler.
 */

/** Where Debian's package `dataset-fashion-mnist` installs the four gzipped IDX files: `fashion_mnist` without a path tries it after the data cache. */
export const DEFAULT_FASHION_MNIST_PATH = '/usr/share/datasets/fashion-mnist';
