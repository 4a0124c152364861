"""`--device` parsing shared by every command: one clear error when the device is not there."""

import pytest
import torch

from yolo.device import DeviceError, select_device


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "0", "gpu", "GPU", "cuda:1"])
def test_cuda_without_cuda_is_one_line(no_cuda, spec):
    with pytest.raises(DeviceError, match=r"CUDA is not available.*use --device cpu") as e:
        select_device(spec)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("spec", ["auto", "", None, "cpu", " CPU "])
def test_auto_and_cpu_without_cuda(no_cuda, spec):
    assert select_device(spec) == torch.device("cpu")


@pytest.mark.parametrize("spec", ["tpu", "cuda:x", "-1", "cpu:0"])
def test_unknown_device(spec):
    with pytest.raises(DeviceError, match="expected auto, cpu, cuda"):
        select_device(spec)


def test_cuda_index_out_of_range(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert select_device("0") == torch.device("cuda:0")
    assert select_device("gpu") == torch.device("cuda:0")
    with pytest.raises(DeviceError, match="no CUDA device 3"):
        select_device("cuda:3")
