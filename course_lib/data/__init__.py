"""Datasets of the course: bundled Fashion-MNIST, Caltech-101 photo sets and Kodak24, photos shipped in the
wheels, and derived tasks."""
from .caltech import caltech_photos, caltech_photos_full, edges2motorbikes, edges2motorbikes_unpaired, kodak24, photo_set
from .fashion_mnist import CLASSES as FASHION_MNIST_CLASSES
from .fashion_mnist import fashion_mnist_tensors, load_fashion_mnist
from .paths import DatasetError, dataset_dir
from .photos import PHOTO_SPLITS, list_photos, load_photo, load_photos, random_crops

__all__ = [
    "FASHION_MNIST_CLASSES", "fashion_mnist_tensors", "load_fashion_mnist", "DatasetError", "dataset_dir",
    "PHOTO_SPLITS", "list_photos", "load_photo", "load_photos", "random_crops",
    "caltech_photos", "caltech_photos_full", "photo_set", "edges2motorbikes", "edges2motorbikes_unpaired", "kodak24",
]
