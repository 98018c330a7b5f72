"""Data: video/image/frame-folder reading with a geometry record, transforms, synthetic tasks with masks.

- ``read_clip(path, frames=8, size=32)`` → :class:`Clip` (frames uint8 (T, S, S, 3), geometry, fps, source);
  ``read_video``, ``read_image``, ``read_frames_folder`` for one kind; bad input raises :class:`InputError`.
- ``make_task("spacetime" | "image", **params)`` → a synthetic task with ``sample(seed, index)`` and
  ``batch(seed, start, n)``; ``TASKS`` lists them; ``task_from_recipe(card["data"])`` rebuilds one.
- ``FolderDataset(root)``: a class-per-folder dataset of the user's own videos and images.

cv2 is imported on first read, not with this package.
"""

from nlviz.data.clip import Clip
from nlviz.data.encode import encode_mp4, png_bytes
from nlviz.data.errors import InputError
from nlviz.data.files import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, input_kind, list_frame_files
from nlviz.data.folder import FolderDataset
from nlviz.data.geometry import Geometry, plan_resize_crop
from nlviz.data.sampling import PAD_POLICIES, sample_indices
from nlviz.data.synthetic import (
    PALETTE,
    QUADRANTS,
    TASKS,
    ObjectInfo,
    SyntheticClip,
    SyntheticTask,
    make_task,
    task_from_recipe,
)
from nlviz.data.transforms import IMAGENET_MEAN, IMAGENET_STD, normalize, resize_crop, to_channels, to_tensor
from nlviz.data.video import read_clip, read_frames_folder, read_image, read_video

# Importing the task modules registers them.
from nlviz.data import spacetime, image_task  # noqa: E402,F401  isort: skip
from nlviz.data.spacetime import SpacetimeTask  # noqa: E402  isort: skip
from nlviz.data.image_task import ImageTask  # noqa: E402  isort: skip

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_EXTENSIONS",
    "PALETTE",
    "PAD_POLICIES",
    "QUADRANTS",
    "TASKS",
    "VIDEO_EXTENSIONS",
    "Clip",
    "encode_mp4",
    "png_bytes",
    "FolderDataset",
    "Geometry",
    "ImageTask",
    "InputError",
    "ObjectInfo",
    "SpacetimeTask",
    "SyntheticClip",
    "SyntheticTask",
    "input_kind",
    "list_frame_files",
    "make_task",
    "normalize",
    "plan_resize_crop",
    "read_clip",
    "read_frames_folder",
    "read_image",
    "read_video",
    "resize_crop",
    "sample_indices",
    "task_from_recipe",
    "to_channels",
    "to_tensor",
]
