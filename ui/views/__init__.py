"""Views: each figure a page shows, with its caption and verdict, as one function over the store's read
interface and the view's parameters, returning a `resnet_core.presentation.views.View`. Pages and the
lesson call the same views and lay them out with `render.show_view`."""
