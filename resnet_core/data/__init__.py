"""Data: the datasets (the embedded `shapes` set and CIFAR), the device-resident loader, pixel
conversion, and safe decoding of uploaded images."""
