"""The language of each request: Bahasa Indonesia unless the user chose another.

Django's LocaleMiddleware also follows the browser's Accept-Language, so an
officer on a computer set up in English would get an English UI. Users are
Indonesian officials: the UI speaks Indonesian by default, and English only
when picked from the language menu (Django's ``set_language`` view, which
stores the choice in the language cookie).
"""

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class LanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
