"""`recipec data`: dataset tools. `recipec data voc` converts Pascal VOC XML to the YOLO layout;
`recipec data synthetic` writes the deterministic synthetic shapes dataset."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Dataset tools: convert Pascal VOC, write synthetic data.", no_args_is_help=True)
    group.command("voc")(voc)
    group.command("synthetic")(synthetic)
    app.add_typer(group, name="data")


def _fail(msg: str, code: int = 2):
    print(f"error: {msg}", file=sys.stderr)
    raise typer.Exit(code)


def _split_voc_args(args: list[str], years: list[str], sets: list[str]):
    """Click options take one value each, so `--years 2007 2012` leaves `2012` as a positional: sort the
    positionals back (4-digit numbers are years, VOC set names are sets, the one other token is the
    source folder). Values may also be comma-separated or the option repeated."""
    years = [y for v in years for y in v.split(",") if y]
    sets = [x for v in sets for x in v.split(",") if x]
    srcs = []
    for tok in args:
        if tok.isdigit() and len(tok) == 4 and not Path(tok).is_dir():
            years.append(tok)
        elif tok in ("train", "val", "trainval", "test") and not Path(tok).is_dir():
            sets.append(tok)
        else:
            srcs.append(tok)
    if len(srcs) != 1:
        _fail("give exactly one source folder" + (f" (got: {', '.join(srcs)})" if srcs else ""))
    return Path(srcs[0]), years, sets


def voc(
    args: list[str] = typer.Argument(..., metavar="SRC", help="A VOCdevkit/ folder (holding VOC2007/, BCCD/, ...), "
                                     "one dataset folder (Annotations/ + JPEGImages/), a flat folder of XMLs and "
                                     "images, or a folder of train/ valid/ test/ folders.", show_default=False),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (new, empty, or an earlier conversion): "
                             "images/, labels/, *.txt lists, data.yaml."),
    years: list[str] = typer.Option(None, "--years", help="Years to convert, e.g. --years 2007 2012 (default: every "
                                    "VOC<year> folder)."),
    sets: list[str] = typer.Option(None, "--sets", help="ImageSets/Main lists to convert, e.g. --sets train val "
                                   "(default: train, val, test if present; trainval when there is no train)."),
    names: str = typer.Option(None, "--names", help="Comma-separated class names, in id order (default: the 20 "
                              "VOC classes, or the sorted names found in the XMLs when they are not VOC's)."),
    val_fraction: float = typer.Option(0.2, "--val-fraction", help="Without split lists: the fraction of images "
                                       "that goes to val, in (0, 1)."),
    seed: int = typer.Option(0, "--seed", help="Without split lists: the seed of the train/val shuffle (same seed, "
                             "same split)."),
    link: str = typer.Option("copy", "--link", help="How images reach --out: copy, hardlink, symlink, or auto "
                             "(hard link, else copy). Links save space; an edit through a link changes the original."),
    keep_difficult: bool = typer.Option(False, "--keep-difficult", help="Keep objects marked difficult."),
) -> None:
    """Convert Pascal VOC XML annotations under SRC to YOLO labels and a data YAML in --out."""
    from yolo.data.voc import VocError, convert_voc

    src, years, sets = _split_voc_args(args, years or [], sets or [])
    name_list = [n.strip() for n in names.split(",") if n.strip()] if names else None
    try:
        res = convert_voc(src, out, names=name_list, val_fraction=val_fraction, seed=seed, link=link,
                          keep_difficult=keep_difficult, years=years or None, sets=sets or None)
    except VocError as e:
        _fail(str(e))
    for line in res.report_lines():
        print(line, file=sys.stderr)
    print(str(res.yaml_path))


def synthetic(
    out: Path = typer.Argument(..., help="Output folder.", show_default=False),
    task: str = typer.Option("shapes-a", "--task", help="shapes-a (3 classes) or shapes-b (4 other classes)."),
    n_train: int = typer.Option(64, "--train", help="Number of training images."),
    n_val: int = typer.Option(16, "--val", help="Number of validation images."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same files."),
) -> None:
    """Write the synthetic shapes dataset (YOLO layout + data.yaml) to OUT and print the YAML path."""
    from yolo.data.synthetic import TASKS, make_synthetic

    if task not in TASKS:
        _fail(f"unknown --task {task!r}; known: {', '.join(TASKS)}")
    if n_train < 1 or n_val < 1:
        _fail("--train and --val must be >= 1")
    try:
        print(make_synthetic(out, task=task, n_train=n_train, n_val=n_val, seed=seed))
    except OSError as e:
        _fail(f"cannot write {out}: {e.strerror or e}")
