"""The package as users install it: the wheel holds templates, static files, translations and
migrations, and an installed copy (not this checkout) migrates a database and serves pages."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Repository folder -> where its files stand in the wheel.
SHIPPED = {"templates": "mes/templates", "migrations": "mes/migrations", "mes/static": "mes/static",
           "mes/translations": "mes/translations"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(ROOT)],
                   check=True, cwd=out)
    return next(out.glob("mes-*.whl"))


def _repository_files(folder: str) -> set[str]:
    base = ROOT / folder
    return {
        f"{SHIPPED[folder]}/{p.relative_to(base).as_posix()}"
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pot")
    }


@pytest.mark.parametrize("folder", sorted(SHIPPED))
def test_the_wheel_holds_every_file_the_app_reads(wheel: Path, folder: str):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = _repository_files(folder) - names
    assert not missing, sorted(missing)[:10]


def test_an_installed_copy_migrates_and_serves_from_another_folder(wheel: Path, tmp_path: Path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
                   check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = textwrap.dedent("""
        import sys
        from pathlib import Path

        import mes
        from mes.app import create_app
        from mes.core import migrate

        site = Path(sys.argv[1]).resolve()
        assert Path(mes.__file__).resolve().is_relative_to(site), mes.__file__
        app = create_app()
        assert Path(app.template_folder).resolve().is_relative_to(site), app.template_folder
        assert migrate.migrations_dir().resolve().is_relative_to(site)
        migrate.upgrade(app)
        assert migrate.current_revision(app)
        client = app.test_client()
        page = client.get("/login", headers={"Accept-Language": "zh-CN"})
        assert page.status_code == 200, page.status_code
        assert "登录" in page.get_data(as_text=True)
        assert client.get("/static/mes.css").status_code == 200
        print("ok")
    """)
    env = {**os.environ, "PYTHONPATH": str(site), "MES_INSTANCE_PATH": str(tmp_path / "instance"),
           "MES_SECRET_KEY": "packaging-test"}
    env.pop("MES_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", script, str(site)], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
