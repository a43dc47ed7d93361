#!/usr/bin/env python3
"""Headless EGL probe: the path VirtualGL's EGL back end (vglrun -d egl) takes.

Enumerates EGL devices (EGL_EXT_device_enumeration), opens a display on the
first one (EGL_EXT_platform_device), creates a pbuffer OpenGL context and
prints GL_VENDOR / GL_RENDERER. Needs glvnd's libEGL.so.1 and libOpenGL.so.0.
Prints one line per fact; exit 0 when a context could be made current.
"""
import ctypes as C
import sys

EGL_NONE = 0x3038
EGL_VENDOR, EGL_VERSION, EGL_EXTENSIONS = 0x3053, 0x3054, 0x3055
EGL_PLATFORM_DEVICE_EXT = 0x313F
EGL_SURFACE_TYPE, EGL_PBUFFER_BIT = 0x3033, 0x0001
EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT = 0x3040, 0x0008
EGL_WIDTH, EGL_HEIGHT = 0x3057, 0x3056
EGL_OPENGL_API = 0x30A2
GL_VENDOR, GL_RENDERER, GL_VERSION = 0x1F00, 0x1F01, 0x1F02


def main() -> int:
    try:
        egl = C.CDLL("libEGL.so.1")
    except OSError as e:
        print(f"egl-probe: cannot load libEGL.so.1: {e}")
        return 2
    egl.eglGetProcAddress.restype = C.c_void_p
    egl.eglGetProcAddress.argtypes = [C.c_char_p]
    egl.eglQueryString.restype = C.c_char_p
    egl.eglQueryString.argtypes = [C.c_void_p, C.c_int]
    egl.eglGetError.restype = C.c_int

    def proc(name, restype, *argtypes):
        addr = egl.eglGetProcAddress(name.encode())
        if not addr:
            return None
        return C.CFUNCTYPE(restype, *argtypes)(addr)

    client_ext = egl.eglQueryString(None, EGL_EXTENSIONS) or b""
    print("egl-probe: client extensions:", client_ext.decode())
    query_devices = proc("eglQueryDevicesEXT", C.c_uint, C.c_int, C.POINTER(C.c_void_p), C.POINTER(C.c_int))
    get_platform_display = proc("eglGetPlatformDisplayEXT", C.c_void_p, C.c_uint, C.c_void_p, C.POINTER(C.c_int))
    if not query_devices or not get_platform_display:
        print("egl-probe: FAIL: no EGL device enumeration (no vendor library that supports it loaded)")
        return 1
    devs = (C.c_void_p * 16)()
    n = C.c_int(0)
    if not query_devices(16, devs, C.byref(n)) or n.value == 0:
        print(f"egl-probe: FAIL: eglQueryDevicesEXT found no device (error 0x{egl.eglGetError():x})")
        return 1
    print(f"egl-probe: {n.value} EGL device(s)")
    dpy = get_platform_display(EGL_PLATFORM_DEVICE_EXT, devs[0], None)
    major, minor = C.c_int(), C.c_int()
    egl.eglInitialize.argtypes = [C.c_void_p, C.POINTER(C.c_int), C.POINTER(C.c_int)]
    if not dpy or not egl.eglInitialize(dpy, C.byref(major), C.byref(minor)):
        print(f"egl-probe: FAIL: eglInitialize on device 0 (error 0x{egl.eglGetError():x})")
        return 1
    print(f"egl-probe: EGL {major.value}.{minor.value} vendor={egl.eglQueryString(dpy, EGL_VENDOR).decode()} "
          f"version={egl.eglQueryString(dpy, EGL_VERSION).decode()}")

    egl.eglBindAPI(EGL_OPENGL_API)
    attrs = (C.c_int * 5)(EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE)
    cfg = C.c_void_p()
    ncfg = C.c_int(0)
    egl.eglChooseConfig.argtypes = [C.c_void_p, C.POINTER(C.c_int), C.POINTER(C.c_void_p), C.c_int, C.POINTER(C.c_int)]
    if not egl.eglChooseConfig(dpy, attrs, C.byref(cfg), 1, C.byref(ncfg)) or ncfg.value == 0:
        print(f"egl-probe: FAIL: no pbuffer/OpenGL config (error 0x{egl.eglGetError():x})")
        return 1
    egl.eglCreatePbufferSurface.restype = C.c_void_p
    egl.eglCreatePbufferSurface.argtypes = [C.c_void_p, C.c_void_p, C.POINTER(C.c_int)]
    surf = egl.eglCreatePbufferSurface(dpy, cfg, (C.c_int * 5)(EGL_WIDTH, 64, EGL_HEIGHT, 64, EGL_NONE))
    egl.eglCreateContext.restype = C.c_void_p
    egl.eglCreateContext.argtypes = [C.c_void_p, C.c_void_p, C.c_void_p, C.POINTER(C.c_int)]
    ctx = egl.eglCreateContext(dpy, cfg, None, None)
    egl.eglMakeCurrent.argtypes = [C.c_void_p, C.c_void_p, C.c_void_p, C.c_void_p]
    if not surf or not ctx or not egl.eglMakeCurrent(dpy, surf, surf, ctx):
        print(f"egl-probe: FAIL: cannot make a pbuffer context current (error 0x{egl.eglGetError():x})")
        return 1
    try:
        gl = C.CDLL("libOpenGL.so.0")
    except OSError as e:
        print(f"egl-probe: context current, but libOpenGL.so.0 missing: {e}")
        return 0
    gl.glGetString.restype = C.c_char_p
    gl.glGetString.argtypes = [C.c_uint]
    print(f"egl-probe: OK GL_VENDOR={gl.glGetString(GL_VENDOR).decode()} "
          f"GL_RENDERER={gl.glGetString(GL_RENDERER).decode()} GL_VERSION={gl.glGetString(GL_VERSION).decode()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
