/** The IDX-based sources of a plan: `idx("folder")` and `fashion_mnist("folder")`. */
import { DEFAULT_FASHION_MNIST_PATH } from '../../ir/defaults.js';
import { cachedDataFolder } from './cache.js';
import { DataUnavailableError } from './errors.js';
import { loadIdxFolder } from './idx.js';
import { candidateFolders, commandArgument, type DataPathOptions } from './paths.js';
import type { RawData } from './types.js';

/** Where Debian's package `dataset-fashion-mnist` installs the four gzipped IDX files (tried after the data cache). */
export const FASHION_MNIST_DEBIAN_DIR = DEFAULT_FASHION_MNIST_PATH;
const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
const MNIST_URL = 'https://yann.lecun.com/exdb/mnist/';
const IDX_FILES = 'train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz';

/**
 * Fashion-MNIST from `path`, or without a path from the data cache (`mono data get
 * fashion-mnist`), then from Debian's folder.
 */
export function loadFashionMnist(path: string, options: DataPathOptions = {}): Promise<RawData> {
  const folders =
    path === ''
      ? [...(options.cacheDir !== undefined ? [cachedDataFolder('fashion-mnist', options.cacheDir)] : []), FASHION_MNIST_DEBIAN_DIR]
      : candidateFolders(path, options);
  const fetch = path === '' ? 'mono data get fashion-mnist' : `mono data get fashion-mnist --dir ${commandArgument(folders[0]!)}`;
  return loadIdxFolder(
    folders,
    {
      name: 'fashion_mnist',
      planSource: 'fashion_mnist',
      howToGet:
        `Fetch it with: ${fetch}\n` +
        `(or on Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist, which installs into ${FASHION_MNIST_DEBIAN_DIR}; ` +
        `or download ${IDX_FILES} from ${FASHION_MNIST_URL} into one folder).`,
    },
  );
}

export function loadIdx(path: string, options: DataPathOptions = {}): Promise<RawData> {
  if (path === '') {
    return Promise.reject(new DataUnavailableError('data idx("") needs the folder that holds the IDX files, e.g. data idx("data/mnist") { ... }'));
  }
  const folders = candidateFolders(path, options);
  return loadIdxFolder(folders, {
    name: 'idx',
    planSource: 'idx',
    howToGet:
      `For MNIST, fetch it into that folder with: mono data get mnist --dir ${commandArgument(folders[0]!)}\n` +
      `(or download ${IDX_FILES} from ${MNIST_URL} into one folder, gzipped or not).`,
  });
}
