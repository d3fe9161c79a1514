"""Image and text embeddings per article (04_feature)."""

from kedro.pipeline import Node, Pipeline

from .nodes import embed_images, embed_texts, image_pixels, train_image_autoencoder


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                image_pixels,
                ["raw_article_images", "articles", "params:embeddings"],
                "article_image_pixels",
                name="load_image_pixels",
            ),
            # Tagged `gpu`: conf/gcp/vertexai.yml gives this step an accelerator.
            Node(
                train_image_autoencoder,
                ["article_image_pixels", "params:embeddings"],
                "image_autoencoder",
                name="train_image_autoencoder",
                tags=["gpu"],
            ),
            Node(
                embed_images,
                ["article_image_pixels", "image_autoencoder", "params:embeddings"],
                "article_image_embeddings",
                name="embed_images",
            ),
            Node(
                embed_texts,
                ["articles", "params:embeddings"],
                "article_text_embeddings",
                name="embed_texts",
            ),
        ]
    )
