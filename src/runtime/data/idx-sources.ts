/** The IDX-based sources of a plan: `idx("folder")` and `fashion_mnist("folder")`. */
import { DEFAULT_FASHION_MNIST_PATH } from '../../ir/defaults.js';
import { loadIdxFolder } from './idx.js';
import { DataUnavailableError } from './errors.js';
import type { RawData } from './types.js';

/** Where Debian's package `dataset-fashion-mnist` installs the four gzipped IDX files (the plan's default path). */
export const FASHION_MNIST_DEBIAN_DIR = DEFAULT_FASHION_MNIST_PATH;
const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
const MNIST_URL = 'https://yann.lecun.com/exdb/mnist/';
const IDX_FILES = 'train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz';

export function loadFashionMnist(path: string, options: { baseDir?: string } = {}): Promise<RawData> {
  return loadIdxFolder(
    path === '' ? FASHION_MNIST_DEBIAN_DIR : path,
    {
      name: 'fashion_mnist',
      planSource: 'fashion_mnist',
      howToGet:
        `On Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist (installs into ${FASHION_MNIST_DEBIAN_DIR}, the default when the plan gives no path).\n` +
        `Elsewhere download ${IDX_FILES} from ${FASHION_MNIST_URL} into one folder.`,
    },
    options,
  );
}

export function loadIdx(path: string, options: { baseDir?: string } = {}): Promise<RawData> {
  if (path === '') {
    return Promise.reject(new DataUnavailableError('data idx("") needs the folder that holds the IDX files, e.g. data idx("data/mnist") { ... }'));
  }
  return loadIdxFolder(
    path,
    {
      name: 'idx',
      planSource: 'idx',
      howToGet: `For MNIST, download ${IDX_FILES} from ${MNIST_URL} into one folder (gzipped or not).`,
    },
    options,
  );
}
